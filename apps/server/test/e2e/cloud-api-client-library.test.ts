/**
 * An independent Cloud API client, unmodified: whatsapp-api-js (npm) pointed at this server.
 * The library has Meta's host written into it, so its fetch is given one that sends the same
 * requests here instead: exactly "changing only the base URL".
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WhatsAppAPI } from 'whatsapp-api-js';
import {
  ActionButtons,
  Body,
  BodyComponent,
  BodyParameter,
  Button,
  Currency,
  Image,
  Interactive,
  Language,
  Location,
  Reaction,
  Template,
  Text,
} from 'whatsapp-api-js/messages';
import { fromWamid, toWamid } from '../../src/modules/cloud-api/index.js';
import { newPhone } from '../harness/builders.js';
import { makeJpeg } from '../harness/media-fixtures.js';
import { createSdkPool } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { until } from '../harness/wait.js';

describe('whatsapp-api-js against Parley', () => {
  let server: TestServer;
  const sdk = createSdkPool(() => server.url);
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await sdk.closeAll();
    await server?.close();
  });

  const clientFor = (token: string, appSecret: string) =>
    new WhatsAppAPI({
      token,
      appSecret,
      v: 'v23.0',
      ponyfill: {
        fetch: (input: string | URL | Request, init?: RequestInit) =>
          fetch(String(input).replace('https://graph.facebook.com', server.url), init),
      },
    });

  it('sends a text, marks the answer read and manages QR codes', async () => {
    const bizPhone = newPhone();
    const biz = await server.modules.business.create({ name: 'Acme', phone: bizPhone });
    const api = clientFor(biz.access_token, biz.app_secret);
    const p = await server.newPerson('Pat');
    const person = await sdk.connect(p.token, { synced: true });
    // Free-form messages go only to people who wrote in the last 24 hours.
    await person.client.sendText(bizPhone, 'Hello?');
    await until(
      async () =>
        (
          await server.platform.db.kysely
            .selectFrom('conversations')
            .select('id')
            .where('person_account_id', '=', p.account_id)
            .where('last_inbound_at', 'is not', null)
            .execute()
        ).length === 1,
    );

    const sent = await api.sendMessage(
      biz.phone_number_id,
      p.phone.slice(1),
      new Text('Hello from a library'),
    );
    expect('messages' in sent && sent.messages[0]?.id).toMatch(/^wamid\./);
    await until(() => person.inbox.some((m) => m.text === 'Hello from a library'));
    const got = person.inbox.find((m) => m.text === 'Hello from a library');
    expect(fromWamid('messages' in sent ? (sent.messages[0]?.id ?? '') : '')).toBe(got?.messageId);

    const answer = await person.client.sendText(bizPhone, 'Thanks');
    expect(await api.markAsRead(biz.phone_number_id, toWamid(answer.messageId))).toEqual({ success: true });

    const qr = await api.createQR(biz.phone_number_id, 'Hi there', 'svg');
    expect('code' in qr && qr.code).toMatch(/^[A-Z2-7]{14}$/);
    const code = 'code' in qr ? qr.code : '';
    expect(await api.retrieveQR(biz.phone_number_id, code)).toMatchObject({
      data: [{ code, prefilled_message: 'Hi there' }],
    });
    expect(await api.updateQR(biz.phone_number_id, code, 'Hello again')).toMatchObject({
      code,
      prefilled_message: 'Hello again',
    });
    expect(await api.deleteQR(biz.phone_number_id, code)).toEqual({ success: true });
  });

  it('sends media, location, reactions, buttons and templates, and parses and verifies Parley’s webhooks', async () => {
    const bizPhone = newPhone();
    const biz = await server.modules.business.create({ name: 'Acme', phone: bizPhone });
    const api = clientFor(biz.access_token, biz.app_secret);
    const p = await server.newPerson('Pat');
    const person = await sdk.connect(p.token, { synced: true });
    const to = p.phone.slice(1);

    // A webhook endpoint that hands every delivery to the library, as an integration would.
    const seen: { messages: string[]; statuses: string[] } = { messages: [], statuses: [] };
    api.on.message = ({ message }) => {
      seen.messages.push(message.type === 'text' ? message.text.body : message.type);
    };
    api.on.status = ({ status, id }) => {
      seen.statuses.push(`${id}:${status}`);
    };
    let rejected = 0;
    const receiver = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (req.method === 'GET') {
        res.end(url.searchParams.get('hub.challenge') ?? '');
        return;
      }
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', async () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        const signature = String(req.headers['x-hub-signature-256']);
        const body = JSON.parse(raw) as { entry: { changes: { field: string }[] }[] };
        try {
          // The library checks X-Hub-Signature-256 itself (and refuses a bad one). Its parser
          // takes `messages` changes; others (template status updates, which carry no
          // number metadata) are only verified, as an integration using it would.
          if (body.entry[0]?.changes[0]?.field === 'messages') await api.post(body as never, raw, signature);
          else if (!(await api.verifyRequestSignature(raw, signature))) throw new Error('bad signature');
          res.end('ok');
        } catch {
          rejected++;
          res.statusCode = 401;
          res.end();
        }
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    try {
      const { port } = receiver.address() as AddressInfo;
      const subscribed = await fetch(`${server.url}/v23.0/${biz.waba_id}/subscribed_apps`, {
        method: 'POST',
        headers: { authorization: `Bearer ${biz.access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ override_callback_uri: `http://127.0.0.1:${port}/hook`, verify_token: 'v' }),
      });
      expect(subscribed.status).toBe(200);

      // The person writes first (free-form messages need the 24-hour window), in their own
      // language: the library must verify a body with escaped non-ASCII text.
      const hello = await person.client.sendText(bizPhone, 'Olá, ¿qué tal? 👋');
      await until(() => seen.messages.includes('Olá, ¿qué tal? 👋'));

      // Media through the library: upload, retrieve, send by id.
      const form = new FormData();
      form.set('messaging_product', 'whatsapp');
      form.set('type', 'image/jpeg');
      form.set('file', new Blob([await makeJpeg()], { type: 'image/jpeg' }), 'photo.jpg');
      const uploaded = await api.uploadMedia(biz.phone_number_id, form, false);
      const mediaId = 'id' in uploaded ? uploaded.id : '';
      expect(await api.retrieveMedia(mediaId)).toMatchObject({ id: mediaId, mime_type: 'image/jpeg' });

      const template = await fetch(`${server.url}/v23.0/${biz.waba_id}/message_templates`, {
        method: 'POST',
        headers: { authorization: `Bearer ${biz.access_token}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          name: 'order_total',
          language: 'en_US',
          category: 'UTILITY',
          components: [{ type: 'BODY', text: 'Your total is {{1}}.', example: { body_text: [['$10.00']] } }],
        }),
      });
      const templateBody = (await template.json()) as { id: string; status: string };
      if (templateBody.status === 'PENDING') await server.modules.templates.approve(templateBody.id);

      const sends = [
        new Image(mediaId, true, 'Your receipt'),
        new Location(-46.6333, -23.5505, 'Shop', 'Av. Paulista'),
        new Reaction(toWamid(hello.messageId), '👍'),
        new Interactive(
          new ActionButtons(new Button('yes', 'Yes'), new Button('no', 'No')),
          new Body('Confirm the order?'),
        ),
        new Template(
          'order_total',
          new Language('en_US'),
          new BodyComponent(new BodyParameter(new Currency(10_000, 'USD', '$10.00'))),
        ),
      ];
      const wamids: string[] = [];
      for (const message of sends) {
        const answer = await api.sendMessage(biz.phone_number_id, to, message);
        expect(answer, message._type).toMatchObject({
          messages: [{ id: expect.stringMatching(/^wamid\./) }],
        });
        wamids.push('messages' in answer ? (answer.messages[0]?.id ?? '') : '');
      }
      await until(() => wamids.every((id) => person.inbox.some((m) => toWamid(m.messageId) === id)));
      expect(person.inbox.find((m) => m.text === 'Your total is $10.00.')).toBeDefined();
      // Every send reached the library's status handler as sent, through a verified webhook.
      await until(() => wamids.every((id) => seen.statuses.includes(`${id}:sent`)));
      expect(rejected).toBe(0);
      expect(await api.deleteMedia(mediaId)).toEqual({ success: true });
    } finally {
      await new Promise<void>((r) => receiver.close(() => r()));
    }
  });
});
