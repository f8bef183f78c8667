/**
 * `parley send` and `parley receive`: a command-line client for scripts and smoke tests,
 * built on the SDK exactly as an app would use it.
 */
import { parseArgs } from 'node:util';
import { ParleyClient, ParleyError, type ReceivedMessage } from '@parley/sdk';
import { CliUsageError } from './usage-error.js';

export interface ClientCommandIo {
  defaultUrl: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

function createClient(url: string, token: string, io: ClientCommandIo, json: boolean): ParleyClient {
  const client = new ParleyClient({ baseUrl: url, token, reconnect: { minDelayMs: 250, maxDelayMs: 2000 } });
  // Failures that matter reject connect() or send() and are reported once, below; the rest
  // (a dropped connection the SDK recovers from) are only worth a line in human mode.
  client.on('error', (e) => {
    if (!json) io.stderr.write(`parley: ${e.code}: ${e.message}\n`);
  });
  return client;
}

function fail(e: unknown, io: ClientCommandIo): number {
  if (e instanceof ParleyError) {
    io.stderr.write(
      `${JSON.stringify({ error: { code: e.code, message: e.message, details: e.details } })}\n`,
    );
    return 1;
  }
  throw e;
}

export async function runSend(args: string[], io: ClientCommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      token: { type: 'string' },
      to: { type: 'string' },
      text: { type: 'string' },
      id: { type: 'string' },
      url: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.token) throw new CliUsageError('--token is required');
  if (!values.to) throw new CliUsageError('--to is required (E.164 phone number or account id)');
  if (values.text === undefined) throw new CliUsageError('--text is required');
  let client: ParleyClient | undefined;
  try {
    client = createClient(values.url ?? io.defaultUrl, values.token, io, values.json);
    await client.connect();
    const sent = await client.sendText(
      values.to,
      values.text,
      values.id ? { clientId: values.id } : undefined,
    );
    io.stdout.write(
      values.json ? `${JSON.stringify({ message_id: sent.messageId })}\n` : `sent ${sent.messageId}\n`,
    );
    return 0;
  } catch (e: unknown) {
    return fail(e, io);
  } finally {
    await client?.close();
  }
}

export async function runReceive(args: string[], io: ClientCommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      token: { type: 'string' },
      url: { type: 'string' },
      wait: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.token) throw new CliUsageError('--token is required');
  const waitSeconds = values.wait === undefined ? 0 : Number(values.wait);
  if (!Number.isFinite(waitSeconds) || waitSeconds < 0) {
    throw new CliUsageError('--wait takes a number of seconds, e.g. --wait 5');
  }
  let client: ParleyClient | undefined;
  try {
    client = createClient(values.url ?? io.defaultUrl, values.token, io, values.json);
    client.onMessage((m) => {
      io.stdout.write(`${values.json ? JSON.stringify(present(m)) : human(m)}\n`);
    });
    await client.connect();
    // Everything queued is printed (and acked) before synced; then wait for live ones.
    await client.whenSynced();
    if (waitSeconds > 0) await new Promise((r) => setTimeout(r, waitSeconds * 1000));
    return 0;
  } catch (e: unknown) {
    return fail(e, io);
  } finally {
    // close() flushes the acks of everything printed.
    await client?.close();
  }
}

function present(m: ReceivedMessage) {
  return {
    message_id: m.messageId,
    from: m.from,
    from_account: m.fromAccount,
    sent_at: new Date(m.sentAt).toISOString(),
    seq: m.seq,
    text: m.text ?? null,
    ...(m.text === undefined ? { payload: m.payload } : {}),
  };
}

function human(m: ReceivedMessage): string {
  return `${new Date(m.sentAt).toISOString()} ${m.from}: ${m.text ?? `[${m.payload.length} base64 characters]`}`;
}
