import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.js';

describe('parseConfig', () => {
  it('defaults to the embedded single-process setup', () => {
    const result = parseConfig({}, '/srv/parley');
    expect(result).toEqual({
      ok: true,
      config: expect.objectContaining({
        host: '127.0.0.1',
        port: 8080,
        dataDir: '/srv/parley/data',
        databaseUrl: undefined,
        roles: ['api', 'gateway', 'worker'],
        sqliteSync: 'full',
      }),
    });
  });

  it('treats empty variables as unset and dedupes roles', () => {
    const result = parseConfig({ PARLEY_PORT: '', PARLEY_ROLES: 'gateway, gateway,api' }, '/x');
    expect(result.ok && result.config.port).toBe(8080);
    expect(result.ok && result.config.roles).toEqual(['gateway', 'api']);
  });

  it('lists every problem with a hint', () => {
    const result = parseConfig(
      {
        PARLEY_PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        PARLEY_ROLES: 'api,chef',
        PARLEY_SQLITE_SYNC: 'off',
      },
      '/x',
    );
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems).toHaveLength(4);
    expect(result.problems.join('\n')).toMatch(/PARLEY_PORT="eighty".*hint: use a port number/);
    expect(result.problems.join('\n')).toMatch(/DATABASE_URL="mysql:\/\/x".*postgres:\/\//);
    expect(result.problems.join('\n')).toMatch(/PARLEY_ROLES="api,chef".*hint/);
  });

  it('takes the public base URL without its trailing slash, and refuses one that is no http(s) URL', () => {
    const ok = parseConfig({ PARLEY_PUBLIC_URL: 'https://chat.example.org/parley/' }, '/x');
    expect(ok.ok && ok.config.publicUrl).toBe('https://chat.example.org/parley');
    const unset = parseConfig({}, '/x');
    expect(unset.ok && unset.config.publicUrl).toBeUndefined();
    for (const bad of ['chat.example.org', 'ftp://chat.example.org', 'https://chat.example.org/?a=1']) {
      const result = parseConfig({ PARLEY_PUBLIC_URL: bad }, '/x');
      expect(result.ok).toBe(false);
      if (!result.ok)
        expect(result.problems.join('\n')).toMatch(/PARLEY_PUBLIC_URL=.*hint: use the http\(s\) URL/);
    }
  });

  it('registers the test payment provider only when asked to', () => {
    const unset = parseConfig({}, '/x');
    expect(unset.ok && unset.config.billingTestProvider).toBe(false);
    const on = parseConfig({ PARLEY_BILLING_TEST_PROVIDER: 'true' }, '/x');
    expect(on.ok && on.config.billingTestProvider).toBe(true);
    const bad = parseConfig({ PARLEY_BILLING_TEST_PROVIDER: 'yes' }, '/x');
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.problems.join('\n')).toMatch(/PARLEY_BILLING_TEST_PROVIDER="yes".*hint/);
  });
});
