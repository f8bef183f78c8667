/**
 * `parley template …`: the operator's review of message templates (the manual queue, approve,
 * reject) and the automatic review and quality rules.
 */
import { parseArgs } from 'node:util';
import { createModules, openPlatform } from '../app.js';
import type { Config } from '../config.js';
import type { OperatorTemplateView } from '../modules/templates/index.js';
import { CliUsageError } from './usage-error.js';

export const TEMPLATE_USAGE =
  'usage: parley template list [--status PENDING] [--json] | parley template approve TEMPLATE_ID [--json] | ' +
  'parley template reject TEMPLATE_ID --reason REASON|"text" [--info "text"] [--json] | ' +
  'parley template rules [--json] | parley template rules set \'{"promotional_words":[…]}\'';

interface Out {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

const line = (t: OperatorTemplateView) =>
  `${t.id}\t${t.status}\t${t.category}\t${t.name}\t${t.language}\t${t.business_id}` +
  `${t.rejected_reason ? `\t${t.rejected_reason}` : ''}\n`;

export async function runTemplate(config: Config, args: string[], io: Out): Promise<number> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      status: { type: 'string' },
      reason: { type: 'string' },
      info: { type: 'string' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  if (sub === 'approve' || sub === 'reject') {
    if (positionals.length !== 1) throw new CliUsageError(TEMPLATE_USAGE);
    if (sub === 'reject' && !values.reason) {
      throw new CliUsageError(
        '--reason is required: ABUSIVE_CONTENT, INVALID_FORMAT, PROMOTIONAL, TAG_CONTENT_MISMATCH, SCAM, INCORRECT_CATEGORY, or a text',
      );
    }
  } else if (sub === 'rules') {
    if (!(positionals.length === 0 || (positionals[0] === 'set' && positionals.length === 2))) {
      throw new CliUsageError(TEMPLATE_USAGE);
    }
  } else if (sub !== 'list' || positionals.length > 0) {
    throw new CliUsageError(TEMPLATE_USAGE);
  }
  let patch: unknown;
  if (sub === 'rules' && positionals[0] === 'set') {
    try {
      patch = JSON.parse(positionals[1] ?? '');
    } catch (e: unknown) {
      throw new CliUsageError(`rules set takes a JSON object: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  const platform = await openPlatform({ ...config, logLevel: 'warn' }, { logDestination: io.stderr });
  try {
    const { templates } = createModules(platform);
    if (sub === 'rules') {
      const rules = patch === undefined ? await templates.rules() : await templates.setRules(patch);
      io.stdout.write(`${JSON.stringify(rules, null, values.json ? undefined : 2)}\n`);
      return 0;
    }
    const out =
      sub === 'list'
        ? await templates.queue(values.status)
        : sub === 'approve'
          ? [await templates.approve(positionals[0] ?? '')]
          : [await templates.reject(positionals[0] ?? '', values.reason ?? '', values.info)];
    io.stdout.write(
      values.json
        ? `${JSON.stringify(sub === 'list' ? { templates: out } : out[0])}\n`
        : out.map(line).join(''),
    );
    return 0;
  } finally {
    await platform.close();
  }
}
