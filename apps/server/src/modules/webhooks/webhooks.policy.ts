/**
 * Retry policy of webhook deliveries. Meta retries a failed delivery "with decreasing
 * frequency … for up to 7 days" without publishing the schedule (reference §2.3); Parley
 * uses exponential backoff from 5 s, doubled per failure and capped at 1 h, with jitter so
 * that deliveries failed together by one outage do not all come back in the same instant.
 * A delivery is tried one last time at exactly 7 days after its first attempt, then it is
 * dead-lettered (kept for replay).
 */
export const RETRY_BASE_MS = 5_000;
export const RETRY_CAP_MS = 60 * 60_000;
export const RETRY_WINDOW_MS = 7 * 24 * 60 * 60_000;

/**
 * The wait after the `failures`-th failure (1-based): between half and all of
 * min(cap, base·2^(failures−1)) ("equal jitter"). `random` is in [0, 1).
 */
export function retryDelay(failures: number, random: number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const full = Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** exponent);
  const half = Math.floor(full / 2);
  // min(): a product with a random just below 1 can round up to the whole step.
  return half + Math.min(full - half - 1, Math.floor((full - half) * random));
}

export type AfterFailure = { state: 'pending'; nextAttemptAt: number } | { state: 'failed' };

/** What becomes of a delivery that just failed for the `failures`-th time at `now`. */
export function afterFailure(input: {
  failures: number;
  firstAttemptAt: number;
  now: number;
  random: number;
}): AfterFailure {
  const deadline = input.firstAttemptAt + RETRY_WINDOW_MS;
  if (input.now >= deadline) return { state: 'failed' };
  const next = input.now + retryDelay(input.failures, input.random);
  return { state: 'pending', nextAttemptAt: Math.min(next, deadline) };
}

/** Only http and https callbacks. Meta requires https; self-hosted Parley also allows http. */
export function callbackUrlProblem(raw: string): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'override_callback_uri is not a valid URL.';
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    return 'override_callback_uri must be an http or https URL.';
  }
  if (url.username || url.password) return 'override_callback_uri must not carry credentials.';
  if (raw.length > 2048) return 'override_callback_uri is longer than 2048 characters.';
  return undefined;
}
