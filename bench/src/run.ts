/**
 * Benchmark runner: `npm run bench -- <name> [--option value …]`. Prints one JSON line of
 * figures on stdout (progress goes to stderr) and records it in docs/BENCHMARKS.md.
 * Benchmarks are not tests: they run on demand, bounded in count and time, on loopback only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runDelivery } from './delivery.js';
import { runIdle } from './idle.js';
import { recordResult } from './report.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    devices: { type: 'string', default: '1000' },
    messages: { type: 'string', default: '200000' },
    'in-flight': { type: 'string', default: '32' },
    'latency-seconds': { type: 'string', default: '10' },
    'latency-rate': { type: 'string' },
    connections: { type: 'string', default: '19000' },
    'no-record': { type: 'boolean', default: false },
  },
});
const name = positionals[0];
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const dataDir = path.join(root, '.bench-data', `${name}-${Date.now()}`);
const command = `npm run bench -- ${process.argv.slice(2).join(' ')}`;

async function run() {
  switch (name) {
    case 'delivery':
      return {
        ...(await runDelivery({
          devices: Number(values.devices),
          messages: Number(values.messages),
          perDeviceInFlight: Number(values['in-flight']),
          latencySeconds: Number(values['latency-seconds']),
          ...(values['latency-rate'] ? { latencyRate: Number(values['latency-rate']) } : {}),
          dataDir,
        })),
        targets: '≥ 20,000 delivered/s with 1,000 devices; p99 ≤ 50 ms at half the peak; 0 lost',
      };
    case 'idle':
      return {
        ...(await runIdle({ connections: Number(values.connections), dataDir, settleSeconds: 5 })),
        targets: '≤ 10 KB of server memory per idle connection at 19,000 connections',
      };
    default:
      process.stderr.write(
        'usage: npm run bench -- delivery|idle [--devices N --messages N | --connections N]\n',
      );
      process.exit(2);
  }
}

try {
  const { result, extra, targets } = await run();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  process.stderr.write(`${JSON.stringify(extra)}\n`);
  if (!values['no-record']) recordResult(name ?? '', command, result, extra, targets);
} finally {
  fs.rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
