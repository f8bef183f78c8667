import { describe, expect, it } from 'vitest';
import { errorFromResponseBody, ParleyError } from './errors.js';

describe('errorFromResponseBody', () => {
  it('reads the REST error envelope', () => {
    const error = errorFromResponseBody(
      { error: { code: 'CODE_INVALID', message: 'wrong', details: { attempts_left: 2 }, request_id: 'r1' } },
      400,
    );
    expect(error).toBeInstanceOf(ParleyError);
    expect(error).toMatchObject({ code: 'CODE_INVALID', status: 400, requestId: 'r1', retryable: false });
    expect(error.details).toEqual({ attempts_left: 2 });
  });

  it('takes retryable from the protocol registry', () => {
    expect(errorFromResponseBody({ error: { code: 'RATE_LIMITED', message: 'slow' } }, 429).retryable).toBe(
      true,
    );
  });

  it('still produces a typed error for bodies it cannot read', () => {
    const error = errorFromResponseBody('<html>bad gateway</html>', 502);
    expect(error.code).toBe('UNKNOWN_ERROR');
    expect(error.status).toBe(502);
    expect(error.retryable).toBe(true);
  });
});
