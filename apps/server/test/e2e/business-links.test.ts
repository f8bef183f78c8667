/**
 * Short links and labels through a real server: a person's SDK client resolves a link, tells
 * the server it opened it and sends the prefilled text to the business number; the agent's SDK
 * client sees the conversation started by the link, labels it, and filters the inbox by label
 * over HTTP. Public pages and QR images are fetched as a browser or scanner would.
 */
import type { ConversationView } from '@parley/protocol';
import { ParleyError, resolveLink } from '@parley/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newPhone } from '../harness/builders.js';
import { createSdkPool } from '../harness/sdk.js';
import { startTestServer, type TestServer } from '../harness/server.js';
import { until } from '../harness/wait.js';

describe('business short links and labels over HTTP', () => {
  let server: TestServer;
  const sdk = createSdkPool(() => server.url);
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await sdk.closeAll();
    await server?.close();
  });

  const api = (token: string, method: string, path: string, body?: unknown) =>
    fetch(`${server.url}/api/v1${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });

  async function inbox(token: string, businessId: string, query = ''): Promise<ConversationView[]> {
    const response = await api(token, 'GET', `/businesses/${businessId}/conversations${query}`);
    expect(response.status).toBe(200);
    return ((await response.json()) as { conversations: ConversationView[] }).conversations;
  }

  async function eventually<T>(get: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const value = await get();
      if (ok(value)) return value;
      if (Date.now() > deadline) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  it('a link starts a chat the agent sees as started by it, and labels filter the inbox', async () => {
    const owner = await server.newPerson('Owner');
    const businessPhone = newPhone();
    const created = await api(owner.token, 'POST', '/businesses', {
      name: 'Bistro <Chez Nous>',
      phone: businessPhone,
    });
    expect(created.status).toBe(201);
    const { business_id: businessId } = (await created.json()) as { business_id: string };
    await server.modules.business.setPlan(businessId, 'premium');
    const agent = await sdk.connect(owner.token, { synced: true });

    const link = await agent.client.business.links.create(businessId, {
      text: 'A table for two, please',
      code: 'Book-Now',
    });
    expect(link).toMatchObject({ code: 'book-now', url: `${server.url}/c/book-now`, chats_started: 0 });

    // What the link opens: JSON for apps, a small page for browsers, QR images for print.
    expect(await resolveLink(server.url, 'book-now')).toMatchObject({
      phone: businessPhone,
      business_name: 'Bistro <Chez Nous>',
      verified: false,
      text: 'A table for two, please',
    });
    const page = await fetch(link.url, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await page.text();
    expect(html).toContain('Bistro &lt;Chez Nous&gt;');
    expect(html).not.toContain('<Chez Nous>');
    expect(html).toContain(
      `parley://chat?phone=${encodeURIComponent(businessPhone)}&amp;text=A+table+for+two%2C+please`,
    );
    // No external assets: the QR image is the server's own, by a relative path.
    expect(html).not.toMatch(/(src|href)="https?:/);
    expect(html).toContain('src="book-now/qr.svg"');
    const png = await fetch(link.qr_png_url);
    expect(png.headers.get('content-type')).toBe('image/png');
    expect([...new Uint8Array(await png.arrayBuffer()).subarray(0, 8)]).toEqual([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a,
    ]);
    const svg = await fetch(link.qr_svg_url);
    expect(svg.headers.get('content-type')).toMatch(/^image\/svg\+xml/);
    expect(await svg.text()).toMatch(/^<svg[\s\S]*<\/svg>\s*$/);
    const missing = await fetch(`${server.url}/c/no-such-code`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('does not lead anywhere');
    const missingJson = await fetch(`${server.url}/c/no-such-code`, {
      headers: { accept: 'application/json' },
    });
    expect(((await missingJson.json()) as { error: { code: string } }).error.code).toBe('LINK_NOT_FOUND');

    // A person follows the link in the app: it tells the server, then sends the prefilled text.
    const p = await server.newPerson('Guest');
    const person = await sdk.connect(p.token, { synced: true });
    const opened = await person.client.business.links.open('book-now');
    expect(opened).toMatchObject({ phone: businessPhone, text: 'A table for two, please', source: 'link' });
    await person.client.sendText(opened.phone, opened.text);
    // And someone who writes without a link.
    const d = await server.newPerson('Direct');
    const direct = await sdk.connect(d.token, { synced: true });
    await direct.client.sendText(businessPhone, 'Are you open on Sunday?');

    // The hosted endpoint takes both messages in.
    const conversations = await eventually(
      () => inbox(owner.token, businessId),
      (list) => list.length === 2,
    );
    const guest = conversations.find((c) => c.person.account_id === p.account_id);
    const walkIn = conversations.find((c) => c.person.account_id === d.account_id);
    expect(guest?.started_via).toBe('link');
    expect(walkIn?.started_via).toBe('direct');
    expect(
      (await agent.client.business.links.list(businessId)).map((l) => [l.code, l.chats_started]),
    ).toEqual([['book-now', 1]]);

    // Labels: the agent tags the link's chat; every agent device hears it; the filter finds it.
    const label = await agent.client.business.labels.create(businessId, { name: 'Booking', color: 'teal' });
    const labelled = await agent.client.business.labels.applyToConversation(
      businessId,
      guest?.conversation_id ?? '',
      label.label_id,
    );
    expect(labelled.labels).toEqual([label.label_id]);
    await until(() =>
      agent.inbox.some((m) => m.event?.type === 'business.conversation' && m.event.label_change === 'added'),
    );
    expect(
      (await inbox(owner.token, businessId, `?label=${label.label_id}`)).map((c) => c.conversation_id),
    ).toEqual([guest?.conversation_id]);
    expect(
      (await agent.client.business.labels.conversations(businessId, label.label_id)).map(
        (c) => c.person.account_id,
      ),
    ).toEqual([p.account_id]);

    // Another business's agent gets nothing of this one, over HTTP too.
    const rival = await server.newPerson('Rival');
    const rivalClient = await sdk.connect(rival.token);
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => undefined,
        (e: unknown) => (e instanceof ParleyError ? [e.code, e.status] : e),
      );
    expect(await refusal(rivalClient.client.business.labels.list(businessId))).toEqual([
      'BUSINESS_NOT_FOUND',
      404,
    ]);
    expect(await refusal(rivalClient.client.business.links.delete(businessId, 'book-now'))).toEqual([
      'BUSINESS_NOT_FOUND',
      404,
    ]);
    expect(await refusal(person.client.business.links.open('nope-nope'))).toEqual(['LINK_NOT_FOUND', 404]);
    expect((await resolveLink(server.url, 'book-now')).text).toBe('A table for two, please');
  });
});
