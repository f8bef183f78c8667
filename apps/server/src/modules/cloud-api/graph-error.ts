/**
 * Errors of the Business Messaging API in the Graph envelope the Cloud API uses:
 * `{"error":{"message":"(#code) title","type","code","error_subcode"?,"error_data"?,"fbtrace_id"}}`
 * with the HTTP statuses Meta documents (docs/cloud-api.md lists them). Client libraries build
 * their handling on `code` (and `error_data.details`), so the codes are the contract.
 */
export class GraphError extends Error {
  constructor(
    readonly code: number,
    message: string,
    readonly status: number,
    readonly extra: {
      type?: string;
      subcode?: number;
      details?: string;
      /**
       * Meta accepts such a send (200 and a wamid) and reports this error later, in a failed
       * status webhook, instead of answering it at once.
       */
      async?: true;
    } = {},
  ) {
    super(message);
    this.name = 'GraphError';
  }

  /** Whether Meta reports this error asynchronously (a failed status), not as the HTTP answer. */
  get async(): boolean {
    return this.extra.async === true;
  }
}

export const graphErrors = {
  missingToken: () => new GraphError(104, 'An access token is required to request this resource', 401),
  invalidToken: () => new GraphError(190, 'Invalid OAuth access token', 401),
  /** An id the token cannot see answers as Graph does for any unknown object. */
  unknownObject: (id: string, method: 'get' | 'post' = 'post') =>
    new GraphError(
      100,
      `Unsupported ${method} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation`,
      400,
      { subcode: 33 },
    ),
  invalidParameter: (details: string) => new GraphError(100, '(#100) Invalid parameter', 400, { details }),
  missingParameter: (details: string) =>
    new GraphError(131008, '(#131008) Required parameter is missing', 400, { details }),
  badValue: (details: string) =>
    new GraphError(131009, '(#131009) Parameter value is not valid', 400, { details }),
  unsupportedType: (details: string) =>
    new GraphError(131051, '(#131051) Unsupported message type', 400, { details }),
  undeliverable: (details: string) =>
    new GraphError(131026, '(#131026) Message undeliverable', 400, { details }),
  recipientIsSender: () =>
    new GraphError(131021, '(#131021) Recipient cannot be sender', 400, {
      details: 'The recipient is this phone number itself.',
    }),
  /** A media id or link that cannot be used (fetch failed, wrong type, too large). */
  mediaUpload: (details: string) => new GraphError(131053, '(#131053) Media upload error', 400, { details }),
  unavailable: (details: string) =>
    new GraphError(2, '(#2) Service temporarily unavailable', 503, { details }),
  unknown: () => new GraphError(131000, '(#131000) Something went wrong', 500),
  /** The business cannot pay for the send (balance and credit line exhausted). */
  paymentIssue: (details: string) =>
    new GraphError(131042, '(#131042) Business eligibility payment issue', 400, { details }),
  /** Registering again with a PIN other than the number's two-step verification PIN. */
  pinMismatch: () =>
    new GraphError(133005, '(#133005) Two step verification PIN Mismatch', 400, {
      details: 'The PIN does not match the two-step verification PIN of this phone number.',
    }),
  /** A send from a deregistered number (POST /deregister); POST /register brings it back. */
  notRegistered: () =>
    new GraphError(133010, '(#133010) Phone number not registered', 400, {
      details: 'This phone number is not registered on the Business Messaging API; register it first.',
    }),
  /** POST /deregister of a number that is not registered. */
  alreadyDeregistered: () =>
    new GraphError(100, 'Phone number not registered on the WhatsApp Business Platform.', 400, {
      subcode: 2207051,
    }),
  /** Some users of a block_users request could not be blocked or unblocked (see failed_users). */
  blockFailed: (blocking: boolean) =>
    new GraphError(139100, '(#139100) Failed to block/unblock users', 400, {
      details: `Failed to ${blocking ? 'block' : 'unblock'} some users, see the block_users response list for details`,
    }),

  // The rules Meta enforces on sends (limits/); details are Meta's own texts where it has one.
  rateLimitHit: () =>
    new GraphError(130429, '(#130429) Rate limit hit', 400, {
      details:
        'Message failed to send because there were too many messages sent from this phone number in a short period of time',
    }),
  pairRateLimitHit: () =>
    new GraphError(131056, '(#131056) (Business Account, Consumer Account) pair rate limit hit', 400, {
      details:
        'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time.',
    }),
  reengagement: () =>
    new GraphError(131047, '(#131047) Re-engagement message', 400, {
      details:
        'Message failed to send because more than 24 hours have passed since the customer last replied to this number.',
      async: true,
    }),
  messagingLimitHit: (limit: number) =>
    new GraphError(131048, '(#131048) Spam rate limit hit', 400, {
      details: `Message failed to send because there are restrictions on how many messages can be sent from this phone number: the business reached its messaging limit of ${limit} unique people in 24 hours.`,
      async: true,
    }),
  /** As Meta does, the details do not tell the business that the person blocked it. */
  blockedByRecipient: () =>
    new GraphError(131026, '(#131026) Message undeliverable', 400, {
      details:
        'Unable to deliver message. Reasons can include: the recipient phone number is not on this service, or the recipient cannot receive messages from this number.',
      async: true,
    }),
  marketingOptOut: () =>
    new GraphError(131050, '(#131050) User stopped marketing messages', 400, {
      details:
        'Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business.',
      async: true,
    }),
  templateParamCount: (details: string) =>
    new GraphError(
      132000,
      '(#132000) Number of parameters does not match the expected number of params',
      400,
      {
        details,
      },
    ),
  templateNotFound: (details: string) =>
    new GraphError(132001, '(#132001) Template name does not exist in the translation', 404, { details }),
  templateTextTooLong: (details: string) =>
    new GraphError(132005, '(#132005) Translated text too long', 400, { details }),
  templateParamFormat: (details: string) =>
    new GraphError(132012, '(#132012) Parameter format does not match format in the created template', 400, {
      details,
    }),
  templatePaused: (details: string) =>
    new GraphError(132015, '(#132015) Template is Paused', 400, { details }),
  templateDisabled: (details: string) =>
    new GraphError(132016, '(#132016) Template is Disabled', 400, { details }),
};

export function graphBody(error: GraphError, fbtraceId: string) {
  return {
    error: {
      message: error.message,
      type: error.extra.type ?? 'OAuthException',
      code: error.code,
      ...(error.extra.details === undefined
        ? {}
        : { error_data: { messaging_product: 'whatsapp', details: error.extra.details } }),
      ...(error.extra.subcode === undefined ? {} : { error_subcode: error.extra.subcode }),
      fbtrace_id: fbtraceId,
    },
  };
}
