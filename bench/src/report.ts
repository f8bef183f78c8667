/** Writes a benchmark's latest figures into docs/BENCHMARKS.md, between its own markers. */
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';

const FILE = fileURLToPath(new URL('../../docs/BENCHMARKS.md', import.meta.url));

export function machineDescription(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.arch()}, Node ${process.version}`;
}

export function recordResult(
  name: string,
  command: string,
  result: object,
  extra: object,
  targets: string,
): void {
  const body = [
    `<!-- bench:${name}:start -->`,
    `| | |`,
    `| --- | --- |`,
    `| date | ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC |`,
    `| machine | ${machineDescription()} |`,
    `| command | \`${command}\` |`,
    `| targets | ${targets} |`,
    '',
    '```json',
    JSON.stringify(result),
    '```',
    '',
    `Other figures of the run: \`${JSON.stringify(extra)}\``,
    `<!-- bench:${name}:end -->`,
  ].join('\n');
  let doc = fs.existsSync(FILE) ? fs.readFileSync(FILE, 'utf8') : '# Benchmarks\n';
  const pattern = new RegExp(`<!-- bench:${name}:start -->[\\s\\S]*?<!-- bench:${name}:end -->`);
  if (pattern.test(doc)) doc = doc.replace(pattern, body);
  else doc = `${doc.trimEnd()}\n\n## ${name}\n\n${body}\n`;
  fs.writeFileSync(FILE, doc);
}
