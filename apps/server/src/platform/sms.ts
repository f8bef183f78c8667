/** Where one-time codes go: the server log (embedded default) or an SMS gateway webhook. */
import { AppError } from '../errors.js';
import type { Logger } from './logger.js';

export interface CodeSender {
  sendCode(phone: string, code: string): Promise<void>;
}

export function createLogCodeSender(logger: Logger): CodeSender {
  return {
    async sendCode(phone, code) {
      logger.info({ phone, code }, `verification code for ${phone}: ${code}`);
    },
  };
}

export function createWebhookCodeSender(url: string, logger: Logger, timeoutMs = 5000): CodeSender {
  return {
    async sendCode(phone, code) {
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ phone, code }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (e: unknown) {
        logger.warn({ err: e, phone }, 'SMS gateway unreachable');
        throw new AppError('SMS_DELIVERY_FAILED', 'The SMS gateway did not answer.', undefined, { cause: e });
      }
      if (!response.ok) {
        logger.warn({ status: response.status, phone }, 'SMS gateway refused the code');
        throw new AppError('SMS_DELIVERY_FAILED', `The SMS gateway answered ${response.status}.`);
      }
    },
  };
}
