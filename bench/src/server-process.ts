/**
 * Runs the server as its own process, exactly as `npm start` does, and reads its memory from
 * /proc. The benchmark process is the load generator; the two share only loopback sockets.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';

const PARLEY_BIN = fileURLToPath(new URL('../../apps/server/bin/parley.js', import.meta.url));

export interface ServerProcess {
  url: string;
  wsUrl: string;
  pid: number;
  rssBytes(): number;
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

export async function startServerProcess(env: Record<string, string>): Promise<ServerProcess> {
  // BENCH_PROFILE=1 writes a V8 CPU profile of the server to .bench-profile/ on exit.
  const profile = process.env.BENCH_PROFILE === '1' ? ['--cpu-prof', '--cpu-prof-dir=.bench-profile'] : [];
  const child: ChildProcess = spawn(process.execPath, [...profile, PARLEY_BIN, 'serve'], {
    env: { ...process.env, PARLEY_PORT: '0', PARLEY_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) {
        child.stdout?.off('data', onData);
        child.stdout?.resume();
        resolve(match[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${out}`)));
  });
  const pid = child.pid ?? 0;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    url,
    wsUrl: `${url.replace(/^http/, 'ws')}/ws`,
    pid,
    rssBytes() {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      const kb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 'NaN');
      return kb * 1024;
    },
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
