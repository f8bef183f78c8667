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
});

export type Secrets = z.infer<typeof secretsSchema>;

export function loadOrCreateSecrets(dataDir: string): Secrets {
  const file = path.join(dataDir, 'secrets.json');
  fs.mkdirSync(dataDir, { recursive: true });
  if (!fs.existsSync(file)) {
    const fresh: Secrets = { otp_key: randomBytes(32).toString('base64url') };
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
  return parsed.data;
}
