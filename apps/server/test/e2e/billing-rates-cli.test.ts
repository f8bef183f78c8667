import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../src/main.js';
import { tempDir } from '../harness/storage.js';

const EXAMPLE_FILE = new URL('../../../../docs/rate-card.example.csv', import.meta.url);
const dataDir = tempDir();

async function cli(...args: string[]) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const code = await main(['billing', ...args], {
    env: { PARLEY_DATA_DIR: dataDir, PARLEY_LOG_LEVEL: 'silent' },
    cwd: process.cwd(),
    stdout,
    stderr,
  });
  return { code, out: Buffer.concat(out).toString('utf8'), err: Buffer.concat(err).toString('utf8') };
}

describe('parley billing rates / model', () => {
  afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

  it('imports, lists, exports and deletes rate cards, and plans a model switch', async () => {
    const file = EXAMPLE_FILE.pathname;
    const imported = await cli(
      'rates',
      'import',
      file,
      '--currency',
      'USD',
      '--from',
      '2099-01-01',
      '--json',
    );
    expect(imported.code).toBe(0);
    const version = JSON.parse(imported.out) as { id: string; rows: number; effective_from: string };
    expect(version).toMatchObject({ rows: 26, effective_from: '2099-01-01T00:00:00.000Z' });

    const exported = await cli('rates', 'export', '--version', version.id);
    expect(exported.out).toBe(fs.readFileSync(file, 'utf8'));
    const atDate = await cli('rates', 'export', '--currency', 'USD', '--at', '2099-06-01');
    expect(atDate.out).toBe(exported.out);

    const overlapping = await cli('rates', 'import', file, '--currency', 'USD', '--from', '2099-02-01');
    expect(overlapping.code).toBe(1);
    expect(JSON.parse(overlapping.err).error.code).toBe('BILLING_RATE_CARD_OVERLAP');

    const broken = path.join(dataDir, 'broken.csv');
    fs.writeFileSync(broken, 'category,market,unit_price,from_count\nmarketing,US,0.01.0,\n');
    const invalid = await cli('rates', 'import', broken, '--currency', 'EUR');
    expect(JSON.parse(invalid.err).error).toMatchObject({
      code: 'BILLING_RATE_CARD_INVALID',
      details: { errors: [{ line: 2, field: 'unit_price' }] },
    });

    const listed = await cli('rates', 'list', '--json');
    expect((JSON.parse(listed.out) as { rate_cards: { id: string }[] }).rate_cards.map((v) => v.id)).toEqual([
      version.id,
    ]);
    expect((await cli('rates', 'show', version.id)).out).toContain('utility\tUS\t0.0035\tfrom #100001');
    expect((await cli('rates', 'delete', version.id)).code).toBe(0);
    expect((await cli('rates', 'list')).out).toBe('');

    const set = await cli('model', 'set', 'CBP', '--from', '2099-01-01', '--json');
    expect(JSON.parse(set.out)).toEqual({
      pricing_models: [{ model: 'CBP', effective_from: '2099-01-01T00:00:00.000Z', status: 'scheduled' }],
    });
    expect((await cli('model', 'set', 'FREE')).code).toBe(1);
    expect((await cli('model', 'list')).out).toContain('CBP\tscheduled');
    expect((await cli('rates', 'import')).code).toBe(2);
  });
});
