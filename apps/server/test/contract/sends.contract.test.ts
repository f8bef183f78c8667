/**
 * Contract tests of `POST /{v}/{pnid}/messages` for every message type Parley accepts: each
 * request body is checked against Meta's request schema (`Message`, a oneOf of the types) before
 * it is sent, each answer against the response schema, and each message must then be sent to
 * the person (its status reaches `sent`), so a body that fits the document but that Parley
 * refuses or drops fails here too.
 *
 * Where the document is wrong or Parley deliberately takes more than it, the case sends what
 * clients send and says what is checked against the document instead, and why; each such case
 * also asserts that the document still refuses the real body, so a corrected document shows up.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromWamid, toWamid } from '../../src/modules/cloud-api/index.js';
import { newPhone } from '../harness/builders.js';
import { makeMp3, makeMp4, makePdf, makePng, makeWebp } from '../harness/media-fixtures.js';
import { createSdkPool } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { until } from '../harness/wait.js';
import { expectOas, expectOasRequest, expectOasSchema } from './oas.js';

const OP = 'POST /{Version}/{Phone-Number-ID}/messages';
/**
 * Links are checked as if served from a public host: the document's `url` format (ajv-formats)
 * refuses loopback and private addresses, where the test's file server has to listen.
 */
const PUBLIC_FILES = 'https://files.example.com';

type Body = Record<string, unknown>;

describe('sends of every type against Meta’s OpenAPI document', () => {
  let server: TestServer;
  let files: http.Server;
  let filesUrl = '';
  const served = new Map<string, { type: string; body: Buffer }>();
  const sdk = createSdkPool(() => server.url);

  beforeAll(async () => {
    // Media links point at the local file server below, which the default refuses (SSRF).
    server = await startTestServer({ env: { PARLEY_MEDIA_FETCH_PRIVATE: 'true' } });
    files = http.createServer((req, res) => {
      const file = served.get(req.url ?? '/');
      if (!file) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length }).end(file.body);
    });
    await new Promise<void>((r) => files.listen(0, '127.0.0.1', r));
    filesUrl = `http://127.0.0.1:${(files.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await sdk.closeAll();
    await server?.close();
    await new Promise((r) => files?.close(r));
  });

  const request = async (method: string, path: string, token: string, body: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Body };
  };

  /** A media id of the business for `file`, uploaded as a client does. */
  const upload = async (pnid: string, token: string, file: Buffer, type: string) => {
    const form = new FormData();
    form.append('messaging_product', 'whatsapp');
    form.append('type', type);
    form.append('file', new Blob([new Uint8Array(file)], { type }), 'upload');
    const res = await fetch(`${server.url}/v23.0/${pnid}/media`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: form,
    });
    const body = (await res.json()) as Body;
    expect(res.status, JSON.stringify(body)).toBe(200);
    return body.id as string;
  };

  /**
   * A business and a person who wrote to it (free-form messages need the 24-hour window), one
   * pair per test so no test meets the pair rate limit. `send` checks the request against the
   * document (or `checked`, the body a documented exception validates instead; `null` when it
   * checks parts itself), sends it, and checks the answer.
   */
  async function chat() {
    const bizPhone = newPhone();
    const biz = await server.modules.business.create({ name: 'Acme', phone: bizPhone });
    const p = await server.newPerson('Pat');
    const person = await sdk.connect(p.token, { synced: true });
    const hello = await person.client.sendText(bizPhone, 'Hello?');
    const db = server.platform.db.kysely;
    await until(
      async () =>
        (
          await db
            .selectFrom('conversations')
            .select('id')
            .where('person_account_id', '=', p.account_id)
            .where('last_inbound_at', 'is not', null)
            .execute()
        ).length === 1,
    );
    const sent: string[] = [];
    const envelope = { messaging_product: 'whatsapp', recipient_type: 'individual', to: p.phone.slice(1) };
    return {
      biz,
      hello: toWamid(hello.messageId),
      envelope,
      async send(message: Body, checked: Body | null = message): Promise<string> {
        const body = { ...envelope, ...message };
        if (checked) {
          const publicLinks = JSON.parse(JSON.stringify(checked).replaceAll(filesUrl, PUBLIC_FILES));
          expectOasRequest(OP, { ...envelope, ...publicLinks });
        }
        const res = await request('POST', `/v23.0/${biz.phone_number_id}/messages`, biz.access_token, body);
        expect(res.status, `${JSON.stringify(message)} → ${JSON.stringify(res.body)}`).toBe(200);
        expectOas(OP, 200, res.body);
        const wamid = (res.body.messages as { id: string }[])[0]?.id ?? '';
        sent.push(wamid);
        return wamid;
      },
      /** Every message sent so far reached the person's queues (none failed on the way). */
      async allSent(): Promise<void> {
        const ids = sent.map((w) => fromWamid(w) ?? w);
        const statuses = async () =>
          (await db.selectFrom('api_messages').select('status').where('message_id', 'in', ids).execute()).map(
            (r) => r.status,
          );
        await until(async () => {
          const s = await statuses();
          return s.length === ids.length && s.every((x) => x !== 'accepted');
        });
        // `sent` at least: a `failed` status means the send was accepted and then dropped.
        expect(await statuses()).toEqual(ids.map(() => expect.stringMatching(/^(sent|delivered|read)$/)));
      },
    };
  }

  /**
   * The document names the schema of each template component and parameter by a
   * `discriminator`, which JSON Schema ignores; the mapped schemas are applied here as an
   * OpenAPI validator would apply them.
   */
  function expectTemplateParts(message: { template: { components: Body[] } }): void {
    const components: Record<string, string> = {
      header: 'HeaderComponent',
      body: 'BodyComponent',
      button: 'ButtonComponent',
    };
    const parameters: Record<string, string> = {
      text: 'TextParameter',
      currency: 'CurrencyParameter',
      date_time: 'DateTimeParameter',
      document: 'DocumentParameter',
      image: 'ImageParameter',
      video: 'VideoParameter',
    };
    const buttonParameters: Record<string, string> = {
      payload: 'ButtonPayloadParameter',
      text: 'ButtonTextParameter',
    };
    const publicLinks = (v: unknown) => JSON.parse(JSON.stringify(v).replaceAll(filesUrl, PUBLIC_FILES));
    for (const component of message.template.components) {
      const type = String(component.type);
      expectOasSchema(components[type] ?? `no ${type} component`, component);
      for (const p of (component.parameters ?? []) as Body[]) {
        const names = type === 'button' ? buttonParameters : parameters;
        expectOasSchema(names[String(p.type)] ?? `no ${String(p.type)} parameter`, publicLinks(p));
      }
    }
  }

  it('text, location, contacts, reaction and a reply', async () => {
    const c = await chat();
    await c.send({ type: 'text', text: { body: 'Your order shipped', preview_url: true } });
    await c.send({ type: 'text', context: { message_id: c.hello }, text: { body: 'Hi! How can we help?' } });
    await c.send({ type: 'reaction', reaction: { message_id: c.hello, emoji: '👍' } });
    await c.send({
      type: 'location',
      location: { latitude: '37.4421', longitude: '-122.1615', name: 'Acme HQ', address: '1 Main St' },
    });
    // Documented exception: the document types latitude and longitude as strings, but Meta's own
    // guide (and every client library) sends JSON numbers, which Parley takes too; the request
    // is checked with the numbers written as strings.
    const numeric = { type: 'location', location: { latitude: 37.4421, longitude: -122.1615 } };
    expect(() => expectOasRequest(OP, { ...c.envelope, ...numeric })).toThrow();
    await c.send(numeric, { type: 'location', location: { latitude: '37.4421', longitude: '-122.1615' } });
    await c.send({
      type: 'contacts',
      contacts: [
        {
          name: { formatted_name: 'Ada Lovelace', first_name: 'Ada', last_name: 'Lovelace', prefix: 'Lady' },
          phones: [{ phone: '+15550001234', type: 'WORK', wa_id: '15550001234' }],
          emails: [{ email: 'ada@example.com', type: 'HOME' }],
          urls: [{ url: 'https://example.com/ada', type: 'WORK' }],
          addresses: [
            {
              street: '1 Main St',
              city: 'London',
              country: 'United Kingdom',
              country_code: 'GB',
              type: 'HOME',
            },
          ],
          org: { company: 'Analytical Engines', title: 'Programmer' },
          birthday: '1815-12-10',
        },
        { name: { formatted_name: 'Charles Babbage' }, phones: [{ phone: '+15550005678' }] },
      ],
    });
    // Documented exception: Meta documents biz_opaque_callback_data on every send (and Parley
    // keeps it for the status webhooks), but the document's message schemas are closed without
    // it; the request is checked without that member.
    const tracked = { type: 'text', text: { body: 'Tracked' }, biz_opaque_callback_data: 'order-42' };
    expect(() => expectOasRequest(OP, { ...c.envelope, ...tracked })).toThrow();
    await c.send(tracked, { type: 'text', text: { body: 'Tracked' } });
    await c.allSent();
  });

  it('image, audio, video, document and sticker, by id and by link', async () => {
    const c = await chat();
    const pnid = c.biz.phone_number_id;
    const token = c.biz.access_token;
    const media = {
      image: { type: 'image/png', body: await makePng() },
      audio: { type: 'audio/mpeg', body: makeMp3() },
      video: { type: 'video/mp4', body: makeMp4() },
      document: { type: 'application/pdf', body: makePdf('invoice') },
      sticker: { type: 'image/webp', body: await makeWebp() },
    };
    for (const [kind, file] of Object.entries(media)) {
      served.set(`/${pnid}/${kind}`, file);
      const id = await upload(pnid, token, file.body, file.type);
      const link = `${filesUrl}/${pnid}/${kind}`;
      const extra: Body =
        kind === 'document'
          ? { caption: 'Your invoice', filename: 'invoice.pdf' }
          : kind === 'image' || kind === 'video'
            ? { caption: `A ${kind}` }
            : {};
      await c.send({ type: kind, [kind]: { id, ...extra } });
      await c.send({ type: kind, [kind]: { link, ...extra } });
    }
    await c.allSent();
  });

  it('interactive: button, list, cta_url, product, product_list, catalog_message and flow', async () => {
    const c = await chat();
    const image = await upload(c.biz.phone_number_id, c.biz.access_token, await makePng(), 'image/png');
    await c.send({
      type: 'interactive',
      interactive: {
        type: 'button',
        header: { type: 'image', image: { id: image } },
        body: { text: 'Did your order arrive?' },
        footer: { text: 'Acme support' },
        action: {
          buttons: [
            { type: 'reply', reply: { id: 'yes', title: 'Yes' } },
            { type: 'reply', reply: { id: 'no', title: 'Not yet' } },
          ],
        },
      },
    });
    await c.send({
      type: 'interactive',
      interactive: {
        type: 'list',
        header: { type: 'text', text: 'Our menu' },
        body: { text: 'Pick a dish' },
        footer: { text: 'Served until 10 pm' },
        action: {
          button: 'Dishes',
          sections: [
            { title: 'Starters', rows: [{ id: 'soup', title: 'Soup', description: 'Tomato' }] },
            {
              title: 'Mains',
              rows: [
                { id: 'pie', title: 'Pie' },
                { id: 'fish', title: 'Fish' },
              ],
            },
          ],
        },
      },
    });
    await c.send({
      type: 'interactive',
      interactive: {
        type: 'product',
        body: { text: 'Back in stock' },
        action: { catalog_id: '123456789', product_retailer_id: 'anvil-1' },
      },
    });
    await c.send({
      type: 'interactive',
      interactive: {
        type: 'product_list',
        header: { type: 'text', text: 'Anvils' },
        body: { text: 'Our range' },
        action: {
          catalog_id: '123456789',
          sections: [
            { title: 'Small', product_items: [{ product_retailer_id: 'anvil-1' }] },
            { title: 'Large', product_items: [{ product_retailer_id: 'anvil-9' }] },
          ],
        },
      },
    });
    await c.send({
      type: 'interactive',
      interactive: {
        type: 'catalog_message',
        body: { text: 'Browse our catalog' },
        action: { name: 'catalog_message', parameters: { thumbnail_product_retailer_id: 'anvil-1' } },
      },
    });
    await c.send({
      type: 'interactive',
      interactive: {
        type: 'flow',
        body: { text: 'Book a delivery slot' },
        action: {
          name: 'flow',
          parameters: {
            flow_message_version: '3',
            flow_id: '1234567890',
            flow_cta: 'Book',
            flow_token: 't-1',
          },
        },
      },
    });

    // Documented exception: `cta_url` is a documented interactive type (Meta's guide "Interactive
    // CTA URL button messages"), but the document's InteractiveObject enum and ActionObject have
    // no such type or action, so no cta_url message can pass. The envelope and the parts the
    // document does describe are checked on their own.
    const ctaUrl = {
      type: 'interactive',
      interactive: {
        type: 'cta_url',
        header: { type: 'text', text: 'Track your order' },
        body: { text: 'It is on its way.' },
        footer: { text: 'Acme' },
        action: { name: 'cta_url', parameters: { display_text: 'Track', url: 'https://acme.test/t/1' } },
      },
    };
    expect(() => expectOasRequest(OP, { ...c.envelope, ...ctaUrl })).toThrow();
    expectOasSchema('BaseMessageProperties', { ...c.envelope, ...ctaUrl });
    expectOasSchema('HeaderObject', ctaUrl.interactive.header);
    expectOasSchema('BodyObject', ctaUrl.interactive.body);
    expectOasSchema('FooterObject', ctaUrl.interactive.footer);
    await c.send(ctaUrl, null);
    await c.allSent();
  });

  it('templates with header, body and button parameters, currency and date_time', async () => {
    const c = await chat();
    const t = c.biz.access_token;
    const create = async (body: Body) => {
      const res = await request('POST', `/v23.0/${c.biz.waba_id}/message_templates`, t, body);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      if (res.body.status !== 'APPROVED') await server.modules.templates.approve(res.body.id as string);
    };
    await create({
      name: 'order_shipped',
      language: 'en_US',
      category: 'UTILITY',
      components: [
        { type: 'HEADER', format: 'TEXT', text: 'Order {{1}}', example: { header_text: ['A-1'] } },
        {
          type: 'BODY',
          text: 'Hi {{1}}, your order of {{2}} arrives on {{3}}.',
          example: { body_text: [['Pat', '$10.00', 'May 1']] },
        },
        {
          type: 'BUTTONS',
          buttons: [
            { type: 'QUICK_REPLY', text: 'Thanks' },
            { type: 'QUICK_REPLY', text: 'Wrong address' },
            {
              type: 'URL',
              text: 'Track',
              url: 'https://acme.test/t/{{1}}',
              example: ['https://acme.test/t/A-1'],
            },
          ],
        },
      ],
    });
    await create({
      name: 'receipt',
      language: 'en_US',
      category: 'UTILITY',
      components: [
        { type: 'HEADER', format: 'DOCUMENT', example: { header_handle: ['4::YXBwbGljYXRpb24vcGRm:ARZV'] } },
        {
          type: 'BODY',
          text: 'Your receipt for order {{1}} is attached.',
          example: { body_text: [['A-1']] },
        },
      ],
    });
    const pdf = makePdf('receipt');
    served.set(`/${c.biz.phone_number_id}/receipt.pdf`, { type: 'application/pdf', body: pdf });

    const shipped = (index: string) => ({
      type: 'template',
      template: {
        name: 'order_shipped',
        language: { policy: 'deterministic', code: 'en_US' },
        components: [
          { type: 'header', parameters: [{ type: 'text', text: 'A-7' }] },
          {
            type: 'body',
            parameters: [
              { type: 'text', text: 'Pat' },
              { type: 'currency', currency: { fallback_value: '$12.50', code: 'USD', amount_1000: 12500 } },
              { type: 'date_time', date_time: { fallback_value: 'Friday, 1 May' } },
            ],
          },
          {
            type: 'button',
            sub_type: 'quick_reply',
            index,
            parameters: [{ type: 'payload', payload: 'ok' }],
          },
          { type: 'button', sub_type: 'url', index: '2', parameters: [{ type: 'text', text: 'A-7' }] },
        ],
      },
    });
    expectTemplateParts(shipped('1'));
    await c.send(shipped('1'));
    // Documented exception: the document's button `index` pattern `^[2-6, 11-14]$` is a character
    // class (one character of 1–6, comma or space), so it refuses index "0", the first button,
    // which Meta's guide uses in every example; Parley takes 0 to 9. Checked with index "1".
    expect(() => expectOasRequest(OP, { ...c.envelope, ...shipped('0') })).toThrow();
    await c.send(shipped('0'), shipped('1'));

    const receipt = (document: Body) => ({
      type: 'template',
      template: {
        name: 'receipt',
        language: { policy: 'deterministic', code: 'en_US' },
        components: [
          { type: 'header', parameters: [{ type: 'document', document }] },
          { type: 'body', parameters: [{ type: 'text', text: 'A-7' }] },
        ],
      },
    });
    const id = await upload(c.biz.phone_number_id, t, pdf, 'application/pdf');
    expectTemplateParts(receipt({ id }));
    expectTemplateParts(receipt({ link: `${filesUrl}/${c.biz.phone_number_id}/receipt.pdf` }));
    await c.send(receipt({ id }));
    await c.send(receipt({ link: `${filesUrl}/${c.biz.phone_number_id}/receipt.pdf` }));

    // Documented exception: the document's LanguageObject requires `policy`, which Meta's guide
    // marks optional and most clients leave out (its only value is "deterministic"); Parley takes
    // both. Checked with the policy added.
    const noPolicy = {
      type: 'template',
      template: {
        name: 'receipt',
        language: { code: 'en_US' },
        components: receipt({ id }).template.components,
      },
    };
    expect(() => expectOasRequest(OP, { ...c.envelope, ...noPolicy })).toThrow();
    await c.send(noPolicy, receipt({ id }));
    await c.allSent();
  });
});
