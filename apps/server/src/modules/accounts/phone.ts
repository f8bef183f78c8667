import { createHash } from 'node:crypto';
import { parsePhoneNumberFromString } from 'libphonenumber-js';

/**
 * Normalises a phone number to E.164, or returns undefined. The input must be international
 * (`+` and country code). We accept every number libphonenumber deems *possible* for its
 * country calling code (right length), not only numbers in allocated ranges: fictional and
 * test ranges such as +1 555 01xx must work, and allocations change faster than releases.
 */
export function normalizePhone(input: string): string | undefined {
  const trimmed = input.trim();
  if (!/^\+[0-9][0-9 ()\-.]{3,24}$/.test(trimmed)) return undefined;
  const parsed = parsePhoneNumberFromString(trimmed);
  if (!parsed?.isPossible()) return undefined;
  return parsed.number;
}

/**
 * The contact-discovery hash of an E.164 number: SHA-256, base64url. Clients hash their address
 * book the same way, so numbers are not uploaded in the clear. (Phone numbers are few enough
 * to enumerate, so discovery is also rate limited; see the contacts module.)
 */
export function phoneHash(e164: string): string {
  return createHash('sha256').update(e164).digest('base64url');
}

/** An E.164 number as people read it, e.g. "+1 555 000 2222" (the input itself when unknown). */
export function displayPhone(e164: string): string {
  return parsePhoneNumberFromString(e164)?.formatInternational() ?? e164;
}
