/**
 * Message ids on the Business Messaging API look like the Cloud API's (`wamid.` and a
 * base64url body, at most 128 characters) and map both ways to Parley's own ids without a
 * table: the body is the base64url of the Parley message id.
 */
const PREFIX = 'wamid.';

export function toWamid(messageId: string): string {
  return PREFIX + Buffer.from(messageId, 'utf8').toString('base64url');
}

/** The Parley message id behind a wamid, or undefined when it is none of ours. */
export function fromWamid(wamid: string): string | undefined {
  if (!wamid.startsWith(PREFIX) || wamid.length > 128) return undefined;
  const id = Buffer.from(wamid.slice(PREFIX.length), 'base64url').toString('utf8');
  return /^msg_[0-9A-Z]{26}$/.test(id) ? id : undefined;
}
