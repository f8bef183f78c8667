/**
 * An independent Cloud API client, unmodified: whatsapp-api-js (npm) pointed at this server.
 * The library has Meta's host written into it, so its fetch is given one that sends the same
 * requests here instead: exactly "changing only the base URL".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WhatsAppAPI } from 'whatsapp-api-js';
import { Text } from 'whatsapp-api-js/messages';
import { fromWamid, toWamid } from '../../src/modules/cloud-api/index.js';
import { newPhone } from '../harness/builders.js';
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
});
