import type { ErrorCode } from '@parley/protocol';
import { ERROR_CODES } from '@parley/protocol';

/**
 * The one error type services throw. Edges (HTTP, gateway) translate it; services never know
 * about transports. `code` must be in the registry in @parley/protocol.
 */
export class AppError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'AppError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERROR_CODES[this.code].status;
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
