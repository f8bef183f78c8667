/**
 * Benchmark runner: `npm run bench -- <name> [--option value …]`. Prints one JSON line of
 * figures on stdout (progress goes to stderr) and records it in docs/BENCHMARKS.md.
 * Benchmarks are not tests: they run on demand, bounded in count and time, on loopback only.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runBilling } from './billing.js';
import { runBusinessInbox } from './business-inbox.js';
import { runCloudApi } from './cloud-api.js';
import { runDelivery } from './delivery.js';
import { runGroups } from './groups.js';
import { runIdle } from './idle.js';
import { recordResult } from './report.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    devices: { type: 'string', default: '1000' },
    // Defaults differ per benchmark (see below).
    messages: { type: 'string' },
    'in-flight': { type: 'string' },
    'latency-seconds': { type: 'string', default: '10' },
    'latency-rate': { type: 'string' },
    connections: { type: 'string', default: '19000' },
    'group-size': { type: 'string', default: '1024' },
    people: { type: 'string', default: '1000' },
    rules: { type: 'string', default: '20' },
    events: { type: 'string', default: '1000000' },
    businesses: { type: 'string', default: '1000' },
    'page-size': { type: 'string', default: '10000' },
    transfers: { type: 'string', default: '200000' },
    callers: { type: 'string', default: '64' },
    model: { type: 'string' },
    'database-url': { type: 'string' },
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
          messages: Number(values.messages ?? 200_000),
          perDeviceInFlight: Number(values['in-flight'] ?? 32),
          latencySeconds: Number(values['latency-seconds']),
          ...(values['latency-rate'] ? { latencyRate: Number(values['latency-rate']) } : {}),
          dataDir,
        })),
        targets: '≥ 20,000 delivered/s with 1,000 devices; p99 ≤ 50 ms at half the peak; 0 lost',
      };
    case 'groups':
      return {
        ...(await runGroups({
          groupSize: Number(values['group-size']),
          messages: Number(values.messages ?? 2000),
          inFlight: Number(values['in-flight'] ?? 48),
          latencySeconds: Number(values['latency-seconds']),
          dataDir,
        })),
        targets:
          '≥ 100,000 device deliveries/s into a 1,024-member group; p99 send-to-last-delivery ≤ 250 ms; 0 lost',
      };
    case 'business-inbox':
      return {
        ...(await runBusinessInbox({
          people: Number(values.people),
          messages: Number(values.messages ?? 50_000),
          inFlight: Number(values['in-flight'] ?? 4),
          rules: Number(values.rules),
          latencySeconds: Number(values['latency-seconds']),
          ...(values['latency-rate'] ? { latencyRate: Number(values['latency-rate']) } : {}),
          dataDir,
        })),
        targets:
          '≥ 5,000 inbound messages/s handled (stored, automated reply sent); automation p99 ≤ 50 ms; 0 lost',
      };
    case 'cloud-api':
      return {
        ...(await runCloudApi({
          people: Number(values.people === '1000' ? 2000 : values.people),
          messages: Number(values.messages ?? 30_000),
          concurrency: Number(values['in-flight'] ?? 64),
          dataDir,
        })),
        targets:
          '≥ 5,000 accepted template messages/s per node with p99 ≤ 50 ms; every status webhook delivered; 0 lost; 0 double-billed',
      };
    case 'idle':
      return {
        ...(await runIdle({ connections: Number(values.connections), dataDir, settleSeconds: 5 })),
        targets: '≤ 10 KB of server memory per idle connection at 19,000 connections',
      };
    case 'billing':
      return {
        ...(await runBilling({
          events: Number(values.events),
          businesses: Number(values.businesses),
          pageSize: Number(values['page-size']),
          transfers: Number(values.transfers),
          callers: Number(values.callers),
          pricingModel: values.model as 'PMP' | 'CBP' | 'PMP_2026' | undefined,
          databaseUrl: values['database-url'],
          dataDir,
        })),
        targets:
          '≥ 50,000 events/s metered; a month of invoices for 1,000 businesses ≤ 5 s; ≥ 20,000 ledger transfers/s; 0 differences',
      };
    default:
      process.stderr.write(
        'usage: npm run bench -- delivery|idle|groups|business-inbox|cloud-api|billing [--devices N --messages N | --connections N | --group-size N | --events N --businesses N --page-size N --transfers N --callers N]\n',
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
