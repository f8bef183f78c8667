/**
 * The one error type the SDK throws or rejects with. Server codes come from the protocol registry
 * so apps can branch on the same stable identifiers the server documents; a few SDK-local codes
 * cover failures that never reach a server (closed client, network, malformed frames).
 */
import { ERROR_CODES, type ErrorCode, isErrorCode } from '@parley/protocol';

/** Failures that originate in the SDK itself rather than in a server response. */
export type SdkErrorCode =
  /** The client was closed (or logged out) before the operation finished. */
  | 'CLIENT_CLOSED'
  /** fetch failed or the socket could not be used; nothing is known about the server's side. */
  | 'NETWORK_ERROR'
  /** The server sent something this SDK cannot read (bad JSON, missing fields). */
  | 'PROTOCOL_ERROR'
  /** An app's onMessage handler threw; the message still counts as handled. */
  | 'HANDLER_FAILED'
  /** The server answered with a code this SDK version does not know; see `details.server_code`. */
  | 'UNKNOWN_ERROR';

export type ParleyErrorCode = ErrorCode | SdkErrorCode;

const SDK_RETRYABLE: Record<SdkErrorCode, boolean> = {
  CLIENT_CLOSED: false,
  NETWORK_ERROR: true,
  PROTOCOL_ERROR: false,
  HANDLER_FAILED: false,
  UNKNOWN_ERROR: false,
};

export interface ParleyErrorOptions {
  status?: number;
  details?: Record<string, unknown>;
  requestId?: string;
  /** Overrides the registry's answer, e.g. for an unknown code with a 5xx status. */
  retryable?: boolean;
  cause?: unknown;
}

export class ParleyError extends Error {
  readonly code: ParleyErrorCode;
  /** HTTP status, for errors that came from the REST API. */
  readonly status: number | undefined;
  readonly details: Record<string, unknown> | undefined;
  /** The server's request id, worth quoting in a bug report. */
  readonly requestId: string | undefined;
  /** Whether repeating the same request later may succeed (for sends: with the same client id). */
  readonly retryable: boolean;

  constructor(code: ParleyErrorCode, message: string, options: ParleyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ParleyError';
    this.code = code;
    this.status = options.status;
    this.details = options.details;
    this.requestId = options.requestId;
    this.retryable = options.retryable ?? defaultRetryable(code);
  }
}

function defaultRetryable(code: ParleyErrorCode): boolean {
  return isErrorCode(code) ? ERROR_CODES[code].retryable : SDK_RETRYABLE[code];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Builds a ParleyError from the `error` object of a REST body or from an `error` frame. Unknown
 * codes (a newer server) keep their raw code in `details.server_code` instead of being dropped.
 */
export function errorFromWire(raw: unknown, status?: number): ParleyError {
  const body = isRecord(raw) ? raw : {};
  const rawCode = typeof body.code === 'string' ? body.code : undefined;
  const message =
    typeof body.message === 'string' ? body.message : `Request failed${status ? ` (${status})` : ''}`;
  const details = isRecord(body.details) ? body.details : undefined;
  const requestId = typeof body.request_id === 'string' ? body.request_id : undefined;
  if (rawCode !== undefined && isErrorCode(rawCode)) {
    return new ParleyError(rawCode, message, { status, details, requestId });
  }
  return new ParleyError('UNKNOWN_ERROR', message, {
    status,
    details: { ...details, server_code: rawCode },
    requestId,
    // A 5xx or 429 without a readable code is still worth retrying.
    retryable: status !== undefined && (status >= 500 || status === 429),
  });
}

/** The REST error envelope is `{"error": {...}}`; anything else is read as an unknown error. */
export function errorFromResponseBody(body: unknown, status: number): ParleyError {
  return errorFromWire(isRecord(body) ? body.error : undefined, status);
}
