/**
 * Server secrets. There are no defaults: on first run they are generated and written to
 * `<data dir>/secrets.json` (mode 0600); later runs and CLI commands read the same file.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

const secretsSchema = z.object({
  /** Keys the HMAC that stores one-time codes, so a leaked database cannot reveal them. */
  otp_key: z.string().min(32),
  /**
   * The operator's bearer token for the admin API (`/api/v1/admin/…`). Added to older files on
   * first read; `parley operator token` prints it.
   */
  operator_token: z.string().min(32).optional(),
});

export type Secrets = z.infer<typeof secretsSchema>;

export function loadOrCreateSecrets(dataDir: string): Secrets {
  const file = path.join(dataDir, 'secrets.json');
  fs.mkdirSync(dataDir, { recursive: true });
  if (!fs.existsSync(file)) {
    const fresh: Secrets = {
      otp_key: randomBytes(32).toString('base64url'),
      operator_token: newOperatorToken(),
    };
    try {
      // `wx` fails if another process created it first; then we read theirs.
      fs.writeFileSync(file, `${JSON.stringify(fresh, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
      return fresh;
    } catch (e: unknown) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
  }
  const parsed = secretsSchema.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
  if (!parsed.success) {
    throw new Error(`${file} is not a valid secrets file: ${parsed.error.message}`);
  }
  if (parsed.data.operator_token === undefined) {
    // A file from before the admin API: add the token once (rename is atomic).
    const upgraded: Secrets = { ...parsed.data, operator_token: newOperatorToken() };
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(upgraded, null, 2)}\n`, { mode: 0o600 });
    fs.renameSync(tmp, file);
    return upgraded;
  }
  return parsed.data;
}

function newOperatorToken(): string {
  return `op_${randomBytes(32).toString('base64url')}`;
}
