/** Response schemas shared by every REST route file. */
import { z } from 'zod';

/** The body of every error response: see docs/errors.md. */
export const errorResponse = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()).optional(),
    request_id: z.string().optional(),
  }),
});
