/**
 * The server's configuration: one zod schema over the environment, parsed once at start by
 * main.ts (the only reader of process.env). Each variable is documented where it is defined,
 * and docs/configuration.md lists them for operators.
 */
import path from 'node:path';
import { z } from 'zod';

const ROLES = ['api', 'gateway', 'worker'] as const;
export type Role = (typeof ROLES)[number];

const port = z.coerce.number().int().min(0).max(65535);
const positiveInt = z.coerce.number().int().positive();

const envSchema = z.object({
  /** Address the HTTP and WebSocket listener binds to. */
  PARLEY_HOST: z.string().min(1).default('127.0.0.1'),
  /** Port of the HTTP and WebSocket listener (0 picks a free port). */
  PARLEY_PORT: port.default(8080),
  /** Folder for the SQLite database, generated secrets and media files. */
  PARLEY_DATA_DIR: z.string().min(1).default('./data'),
  /** `postgres://…` switches storage from the embedded SQLite file to PostgreSQL. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must start with postgres:// or postgresql://')
    .optional(),
  /** Comma-separated roles this process runs: api, gateway, worker. */
  PARLEY_ROLES: z
    .string()
    .default(ROLES.join(','))
    .transform((s) =>
      s
        .split(',')
        .map((r) => r.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.enum(ROLES)).min(1)),
  /** pino level: fatal, error, warn, info, debug, trace, silent. */
  PARLEY_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** When set, one-time codes are POSTed as `{"phone","code"}` to this SMS gateway instead of logged. */
  PARLEY_SMS_WEBHOOK_URL: z.url({ protocol: /^https?$/ }).optional(),
  /** SQLite durability: `full` fsyncs every commit (survives power loss), `normal` survives a process crash. */
  PARLEY_SQLITE_SYNC: z.enum(['full', 'normal']).default('full'),
  /** Interval of WebSocket heartbeats; a connection silent for two intervals is dropped. */
  PARLEY_HEARTBEAT_MS: positiveInt.min(1000).default(30_000),
  /** Frames per second a connection may send on average (bursts of twice that are allowed). */
  PARLEY_WS_FRAMES_PER_SECOND: positiveInt.default(1000),
  /** Envelopes sent to a device but not yet acknowledged before the server waits for acks. */
  PARLEY_WS_WINDOW: positiveInt.max(10_000).default(512),
  /**
   * Base of the public URLs the server hands out (short links `/c/<code>` and their QR codes),
   * as people reach it: e.g. https://chat.example.org. Unset: http://<host>:<port> of the listener.
   */
  PARLEY_PUBLIC_URL: z
    .url({ protocol: /^https?$/ })
    .refine((u) => !/[?#]/.test(u), 'must not have a query or fragment')
    .transform((u) => u.replace(/\/+$/, ''))
    .optional(),
  /**
   * `true` lets media links of the Business Messaging API (`"link"` in a send) reach loopback and
   * private addresses; by default they may not, so a link cannot make the server read its own
   * network.
   */
  PARLEY_MEDIA_FETCH_PRIVATE: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Currency of new billing accounts (ISO 4217). The operator can change an empty account's. */
  PARLEY_BILLING_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .refine((c) => Intl.supportedValuesOf('currency').includes(c))
    .default('USD'),
  /**
   * Credit line of new billing accounts, in minor units; 0 (default) makes them prepaid: a
   * billable send needs a topped-up balance once the operator has a rate card in force.
   */
  PARLEY_BILLING_CREDIT_LIMIT: z
    .string()
    .regex(/^\d{1,18}$/)
    .default('0'),
  /**
   * `true` registers the built-in `test` payment provider, which "collects" any amount without
   * real money (for tests and demos). Off by default: with it on, any business could pay its
   * plan with it.
   */
  PARLEY_BILLING_TEST_PROVIDER: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** Trust X-Forwarded-For from a load balancer when rate limiting by address. */
  PARLEY_TRUST_PROXY: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

const HINTS: Record<string, string> = {
  PARLEY_PORT: 'use a port number between 0 and 65535, e.g. PARLEY_PORT=8080',
  DATABASE_URL:
    'leave it unset for the embedded SQLite store, or set e.g. postgres://user@127.0.0.1:5432/parley',
  PARLEY_ROLES: 'use any of api,gateway,worker separated by commas, e.g. PARLEY_ROLES=api,gateway',
  PARLEY_LOG_LEVEL: 'use one of fatal, error, warn, info, debug, trace, silent',
  PARLEY_SMS_WEBHOOK_URL: 'use an http(s) URL of your SMS gateway, or unset it to log codes',
  PARLEY_SQLITE_SYNC: 'use full (default) or normal',
  PARLEY_HEARTBEAT_MS: 'use milliseconds, at least 1000',
  PARLEY_WS_FRAMES_PER_SECOND: 'use a positive whole number',
  PARLEY_WS_WINDOW: 'use a whole number between 1 and 10000',
  PARLEY_TRUST_PROXY: 'use true or false',
  PARLEY_BILLING_CURRENCY: 'use an ISO 4217 currency code, e.g. PARLEY_BILLING_CURRENCY=EUR',
  PARLEY_BILLING_CREDIT_LIMIT: 'use a whole number of minor units (cents), e.g. 0 for prepaid or 50000',
  PARLEY_MEDIA_FETCH_PRIVATE: 'use true or false',
  PARLEY_BILLING_TEST_PROVIDER: 'use true (tests and demos only) or false',
  PARLEY_PUBLIC_URL: 'use the http(s) URL people reach the server at, e.g. https://chat.example.org',
};

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  databaseUrl: string | undefined;
  roles: Role[];
  logLevel: string;
  smsWebhookUrl: string | undefined;
  sqliteSync: 'full' | 'normal';
  heartbeatMs: number;
  wsFramesPerSecond: number;
  wsWindow: number;
  trustProxy: boolean;
  /** PARLEY_PUBLIC_URL without a trailing slash; undefined: where the server listens. */
  publicUrl: string | undefined;
  /** PARLEY_MEDIA_FETCH_PRIVATE: media links may reach private addresses. */
  mediaFetchPrivate: boolean;
  /** PARLEY_BILLING_CURRENCY: currency of new billing accounts. */
  billingCurrency: string;
  /** PARLEY_BILLING_CREDIT_LIMIT: credit line of new billing accounts, minor units (0: prepaid). */
  billingCreditLimit: bigint;
  /** PARLEY_BILLING_TEST_PROVIDER: the `test` payment provider is registered. */
  billingTestProvider: boolean;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: string[] };

/** Parses the environment. Never throws: returns every problem, each with a hint. */
export function parseConfig(env: Record<string, string | undefined>, cwd: string): ConfigResult {
  // Empty strings mean "unset", as shells and compose files commonly produce them.
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const result = envSchema.safeParse(cleaned);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const key = String(issue.path[0] ?? '');
      const hint = HINTS[key];
      return `${key}=${JSON.stringify(env[key] ?? '')}: ${issue.message}${hint ? ` (hint: ${hint})` : ''}`;
    });
    return { ok: false, problems };
  }
  const e = result.data;
  return {
    ok: true,
    config: {
      host: e.PARLEY_HOST,
      port: e.PARLEY_PORT,
      dataDir: path.resolve(cwd, e.PARLEY_DATA_DIR),
      databaseUrl: e.DATABASE_URL,
      roles: [...new Set(e.PARLEY_ROLES)],
      logLevel: e.PARLEY_LOG_LEVEL,
      smsWebhookUrl: e.PARLEY_SMS_WEBHOOK_URL,
      sqliteSync: e.PARLEY_SQLITE_SYNC,
      heartbeatMs: e.PARLEY_HEARTBEAT_MS,
      wsFramesPerSecond: e.PARLEY_WS_FRAMES_PER_SECOND,
      wsWindow: e.PARLEY_WS_WINDOW,
      trustProxy: e.PARLEY_TRUST_PROXY,
      publicUrl: e.PARLEY_PUBLIC_URL,
      mediaFetchPrivate: e.PARLEY_MEDIA_FETCH_PRIVATE,
      billingCurrency: e.PARLEY_BILLING_CURRENCY,
      billingCreditLimit: BigInt(e.PARLEY_BILLING_CREDIT_LIMIT),
      billingTestProvider: e.PARLEY_BILLING_TEST_PROVIDER,
    },
  };
}
