/**
 * Client message ids. A send keeps its id across resends and reconnects, which is what makes
 * sends idempotent: the server answers a repeated (device, id) with the original message.
 */

/** The server's rule for client message ids (protocol `sendFrame.id`). */
export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

export function isValidClientId(id: string): boolean {
  return CLIENT_ID_PATTERN.test(id);
}

/**
 * 128 random bits as 32 hex characters. getRandomValues rather than randomUUID because browsers
 * expose randomUUID only in secure contexts, and a self-hosted server may be reached over plain http.
 */
export function newClientId(random: (bytes: Uint8Array) => void = (b) => crypto.getRandomValues(b)): string {
  const bytes = new Uint8Array(16);
  random(bytes);
  let id = '';
  for (const b of bytes) id += b.toString(16).padStart(2, '0');
  return id;
}
