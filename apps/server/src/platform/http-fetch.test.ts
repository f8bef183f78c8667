import { describe, expect, it } from 'vitest';
import { createHttpFetcher, FetchError, isPrivateAddress } from './http-fetch.js';

describe('isPrivateAddress', () => {
  it('refuses the server’s own networks', () => {
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fd00::1',
      'fe80::1',
      '::ffff:127.0.0.1',
      '224.0.0.1',
    ]) {
      expect(isPrivateAddress(a), a).toBe(true);
    }
  });
  it('lets public addresses through', () => {
    for (const a of ['8.8.8.8', '172.32.0.1', '100.128.0.1', '2606:4700::1111', '::ffff:8.8.8.8']) {
      expect(isPrivateAddress(a), a).toBe(false);
    }
  });
});

describe('createHttpFetcher', () => {
  const fetcher = createHttpFetcher({ allowPrivate: false, userAgent: 'test' });
  const options = { timeoutMs: 2000, maxRedirects: 2 };
  it('does not connect to a private address, given as such or by a name', async () => {
    await expect(fetcher.get('http://127.0.0.1:9/x.png', options)).rejects.toThrow(/private network/);
    await expect(fetcher.get('http://[::1]:9/x.png', options)).rejects.toThrow(/private network/);
    await expect(fetcher.get('http://localhost:9/x.png', options)).rejects.toThrow(/private network/);
  });
  it('fetches only http(s)', async () => {
    await expect(fetcher.get('file:///etc/passwd', options)).rejects.toBeInstanceOf(FetchError);
  });
});
