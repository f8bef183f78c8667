/**
 * `npm run bench -- idle`: server memory per idle, signed-in WebSocket connection.
 * RSS of the server process is read from /proc before and after opening the connections
 * (after a warm-up round, so code and caches are already paid for), then divided.
 */
import { type BenchConnection, connectDevice, type Handlers, pool, sleep } from './loadgen.js';
import { startServerProcess } from './server-process.js';
import { createAccounts } from './setup.js';

export async function runIdle(o: { connections: number; dataDir: string; settleSeconds: number }) {
  process.stderr.write(`creating ${o.connections} accounts…\n`);
  const devices = await createAccounts(o.dataDir, o.connections);
  const server = await startServerProcess({ PARLEY_DATA_DIR: o.dataDir });
  const handlers: Handlers = { onMsg() {}, onSent() {}, onError() {} };
  try {
    // Warm-up: open and close a few hundred so the server's code paths and pools are hot.
    const warm = await pool(devices.slice(0, 300), 100, (d) => connectDevice(server.wsUrl, d, handlers));
    for (const c of warm) c.ws.close(1000);
    await sleep(o.settleSeconds * 1000);
    const before = server.rssBytes();

    process.stderr.write(`opening ${o.connections} connections…\n`);
    const conns: BenchConnection[] = await pool(devices, 200, (d) =>
      connectDevice(server.wsUrl, d, handlers),
    );
    await sleep(o.settleSeconds * 1000);
    const after = server.rssBytes();
    const result = {
      bench: 'idle',
      connections: conns.length,
      rss_bytes_per_connection: Math.round((after - before) / conns.length),
    };
    const extra = { rss_before_mb: Math.round(before / 1048576), rss_after_mb: Math.round(after / 1048576) };
    for (const c of conns) c.ws.terminate();
    return { result, extra };
  } finally {
    await server.stop();
  }
}
