/**
 * Linked devices through the SDK against the `parley` program: a companion linked while its
 * primary is offline gets the account's messages, the sender's other devices get copies of
 * what it sends, and unlinking closes the companion's connection.
 */
import fs from 'node:fs';
import { linkDevice, ParleyClient, ParleyError, type ReceivedMessage } from '@parley/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { newPhone } from '../harness/builders.js';
import { freePort, runParley, spawnServer } from '../harness/process.js';
import { tempDir } from '../harness/storage.js';
import { until } from '../harness/wait.js';

describe('linked devices', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => {});
  });

  it('a companion linked while the primary is offline gets the account’s messages and its own sent copies', async () => {
    const dataDir = tempDir();
    const env = { PARLEY_DATA_DIR: dataDir, PARLEY_PORT: String(await freePort()) };
    cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const server = await spawnServer(env);
    cleanups.push(() => server.stop());
    const account = async (name: string) => {
      const phone = newPhone();
      const r = await runParley(['account', 'create', '--phone', phone, '--name', name, '--json'], env);
      return { ...(JSON.parse(r.stdout) as { account_id: string; device_id: string; token: string }), phone };
    };
    const alice = await account('Alice');
    const bob = await account('Bob');
    const client = (token: string) => {
      const c = new ParleyClient({
        baseUrl: server.url,
        token,
        reconnect: { minDelayMs: 50, maxDelayMs: 500 },
      });
      const inbox: ReceivedMessage[] = [];
      c.onMessage((m) => {
        inbox.push(m);
      });
      c.on('error', () => {});
      cleanups.push(() => c.close());
      return { c, inbox };
    };

    // Alice's phone shows a link code, then goes offline.
    const phone = client(alice.token);
    await phone.c.connect();
    const { code, qr_payload } = await phone.c.createLinkCode();
    expect(qr_payload).toBe(`parley:link:${code}`);
    await phone.c.close();

    // Her laptop links with the QR payload while the phone is offline.
    const linked = await linkDevice(server.url, { code: qr_payload, deviceName: 'Laptop' });
    expect(linked.account_id).toBe(alice.account_id);
    await expect(linkDevice(server.url, { code })).rejects.toMatchObject({ code: 'LINK_CODE_INVALID' });
    const laptop = client(linked.token);
    await laptop.c.connect();
    await laptop.c.whenSynced();

    // Bob writes to Alice: the laptop gets it now, the phone when it comes back.
    const b = client(bob.token);
    await b.c.connect();
    const hello = await b.c.sendText(alice.phone, 'hello Alice');
    await until(() => laptop.inbox.length === 1);
    expect(laptop.inbox[0]).toMatchObject({
      messageId: hello.messageId,
      text: 'hello Alice',
      chatId: bob.account_id,
    });

    // Alice answers from the laptop: Bob gets it, and her phone gets a copy filed under Bob.
    const answer = await laptop.c.sendText(bob.phone, 'hi Bob');
    await until(() => b.inbox.length === 1);
    expect(b.inbox[0]).toMatchObject({ messageId: answer.messageId, fromDevice: linked.device_id });

    const phoneAgain = client(alice.token);
    await phoneAgain.c.connect();
    await phoneAgain.c.whenSynced();
    // Both filed under the chat with Bob.
    expect(phoneAgain.inbox.map((m) => [m.text, m.fromAccount, m.chatId])).toEqual([
      ['hello Alice', bob.account_id, bob.account_id],
      ['hi Bob', alice.account_id, bob.account_id],
    ]);

    // The phone lists and unlinks the laptop; the laptop's connection is closed for good.
    const devices = await phoneAgain.c.listDevices();
    expect(devices.map((d) => [d.role, d.name])).toEqual([
      ['primary', 'Primary'],
      ['companion', 'Laptop'],
    ]);
    const states: string[] = [];
    laptop.c.on('state', (s) => states.push(s));
    await phoneAgain.c.logoutDevice(linked.device_id);
    await until(() => laptop.c.state === 'closed');
    await expect(laptop.c.me()).rejects.toBeInstanceOf(ParleyError);
  });
});
