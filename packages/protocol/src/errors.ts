/**
 * The registry of every error code Parley returns, on HTTP and on the WebSocket.
 * Codes are stable UPPER_SNAKE identifiers that clients may branch on; the message is for people.
 * `docs/errors.md` is generated from this table and a test fails when they disagree.
 */
export interface ErrorSpec {
  /** HTTP status used when the error is returned by the REST API. */
  readonly status: number;
  /** Whether a client may retry the same request later and expect it to succeed. */
  readonly retryable: boolean;
  readonly description: string;
}

export const ERROR_CODES = {
  VALIDATION_FAILED: {
    status: 400,
    retryable: false,
    description:
      'The request body, query or frame did not match its schema. `details.issues` lists each problem.',
  },
  PHONE_INVALID: {
    status: 400,
    retryable: false,
    description: 'The phone number is not a valid E.164 number (for example `+15550001111`).',
  },
  CODE_INVALID: {
    status: 400,
    retryable: false,
    description: 'The one-time code is wrong. `details.attempts_left` says how many tries remain.',
  },
  CODE_EXPIRED: {
    status: 400,
    retryable: false,
    description:
      'There is no live one-time code for this number: it expired (10 minutes) or was already used. Request a new one.',
  },
  CODE_ATTEMPTS_EXCEEDED: {
    status: 429,
    retryable: false,
    description: 'The one-time code was entered wrongly 5 times and is now void. Request a new one.',
  },
  RATE_LIMITED: {
    status: 429,
    retryable: true,
    description:
      'Too many requests for this number, address or connection. `details.retry_after_ms` says when to retry.',
  },
  UNAUTHENTICATED: {
    status: 401,
    retryable: false,
    description: 'The device token is missing, malformed, unknown or revoked. Sign in again.',
  },
  OPERATOR_UNAUTHENTICATED: {
    status: 401,
    retryable: false,
    description:
      'An admin API route (`/api/v1/admin/…`) was called without the operator token. `parley operator token` prints it.',
  },
  FORBIDDEN: {
    status: 403,
    retryable: false,
    description:
      'The caller is signed in but may not do this (for example a linked device linking others or logging out another device).',
  },
  ROUTE_NOT_FOUND: {
    status: 404,
    retryable: false,
    description: 'No endpoint answers to this method and path.',
  },
  ACCOUNT_NOT_FOUND: {
    status: 404,
    retryable: false,
    description: 'No account has this id or phone number.',
  },
  DEVICE_NOT_FOUND: {
    status: 404,
    retryable: false,
    description: 'No device of this account has this id (or it was already logged out).',
  },
  PHONE_TAKEN: {
    status: 409,
    retryable: false,
    description: 'An account already exists for this phone number.',
  },
  DEVICE_LIMIT_REACHED: {
    status: 409,
    retryable: false,
    description:
      'The account already has 4 linked (companion) devices besides its primary. Unlink one first.',
  },
  LINK_CODE_INVALID: {
    status: 400,
    retryable: false,
    description:
      'The link code is malformed, wrong, or was already used (each code links one device). Show a new one on the primary device.',
  },
  LINK_CODE_EXPIRED: {
    status: 400,
    retryable: false,
    description:
      'The link code expired (codes live 2 minutes) and is now spent. Show a new one on the primary device.',
  },
  RECIPIENT_NOT_FOUND: {
    status: 404,
    retryable: false,
    description: 'The recipient of a send is not a Parley account. Nothing was stored.',
  },
  GROUP_NOT_FOUND: {
    status: 404,
    retryable: false,
    description: 'No group has this id (or the invite link is unknown or was revoked). Nothing was stored.',
  },
  NOT_A_GROUP_MEMBER: {
    status: 403,
    retryable: false,
    description:
      'Only members can send to, read or change a group, and only members can be removed or promoted. Nothing was stored.',
  },
  GROUP_ADMINS_ONLY: {
    status: 403,
    retryable: false,
    description:
      'Only group admins may do this (add or remove members, change admins, settings or invite links; send or edit info when the group restricts it to admins). Nothing changed.',
  },
  GROUP_FULL: {
    status: 409,
    retryable: false,
    description: 'A group has at most 1,024 members. `details.max_members` says so. Nothing changed.',
  },
  MESSAGE_NOT_FOUND: {
    status: 404,
    retryable: false,
    description:
      'No message you can see has this id (for receipts: no message you sent; for a reaction, edit, delete or reply: no message of that chat), or it is older than 30 days or has disappeared. Nothing changed.',
  },
  MESSAGE_DELETED: {
    status: 410,
    retryable: false,
    description:
      'The message was deleted for everyone: it cannot be edited, reacted to, replied to or forwarded.',
  },
  NOT_MESSAGE_SENDER: {
    status: 403,
    retryable: false,
    description:
      'Only the sender of a message can edit it or delete it for everyone (in a group, admins can also delete).',
  },
  EDIT_WINDOW_EXPIRED: {
    status: 409,
    retryable: false,
    description: 'Messages can be edited for 15 minutes after they were sent. Nothing changed.',
  },
  DELETE_WINDOW_EXPIRED: {
    status: 409,
    retryable: false,
    description: 'Messages can be deleted for everyone for 2 days after they were sent. Nothing changed.',
  },
  MEDIA_NOT_FOUND: {
    status: 404,
    retryable: false,
    description:
      'No media with this id that you may use: it does not exist, has expired, or you neither uploaded it nor can see a message carrying it (1:1, or a group you were in when it was sent).',
  },
  MEDIA_TOO_LARGE: {
    status: 413,
    retryable: false,
    description:
      'The upload exceeds the limit of its kind (image 16 MiB, video 64 MiB, audio 16 MiB, document 100 MiB, sticker 512 KiB and 512×512 pixels). `details` gives the limit. Nothing was stored.',
  },
  MEDIA_TYPE_UNSUPPORTED: {
    status: 415,
    retryable: false,
    description:
      'The content is not a type Parley accepts for this kind (detected from the bytes, see protocol.md), or it cannot be decoded. Nothing was stored.',
  },
  MEDIA_TYPE_MISMATCH: {
    status: 415,
    retryable: false,
    description:
      'The declared Content-Type of the uploaded file disagrees with the type detected from its content. `details` gives both. Nothing was stored.',
  },
  MEDIA_VIEW_ONCE_CONSUMED: {
    status: 410,
    retryable: false,
    description: 'This view-once media was already opened by your account; it can be opened only once.',
  },
  MEDIA_RANGE_NOT_SATISFIABLE: {
    status: 416,
    retryable: false,
    description:
      'The Range header asks for bytes beyond the end of the media. `details.size` gives its size.',
  },
  CHAT_NOT_FOUND: {
    status: 404,
    retryable: false,
    description:
      'The chat is neither a Parley account (a one-to-one chat is named by the other account’s id) nor a group you are a member of. Nothing changed.',
  },
  CHAT_PIN_LIMIT: {
    status: 409,
    retryable: false,
    description:
      'At most 3 chats can be pinned; unpin one first. `details.max_pinned` says the limit. Nothing changed.',
  },
  BUSINESS_NOT_FOUND: {
    status: 404,
    retryable: false,
    description:
      'No business with this id that you work for (as owner, admin or agent). Another business’s ids answer the same as unknown ones. Nothing changed.',
  },
  BUSINESS_ROLE_REQUIRED: {
    status: 403,
    retryable: false,
    description:
      'Your role in the business does not allow this: managing the business, its agents and automations takes an owner or admin (`details.required`). Nothing changed.',
  },
  CONVERSATION_NOT_FOUND: {
    status: 404,
    retryable: false,
    description: 'No conversation with this id in this business. Nothing changed.',
  },
  AUTOMATION_SCHEDULE_INVALID: {
    status: 400,
    retryable: false,
    description:
      'The away schedule or opening hours are not valid: an unknown time zone, a malformed or non-existent local time, overlapping intervals, or a window that ends before it starts. `details.issues` lists each problem. Nothing changed.',
  },
  KEYWORD_RULE_NOT_FOUND: {
    status: 404,
    retryable: false,
    description: 'No keyword rule with this id in this business. Nothing changed.',
  },
  QUICK_REPLY_NOT_FOUND: {
    status: 404,
    retryable: false,
    description: 'No quick reply with this shortcut in this business. Nothing changed.',
  },
  PLAN_LIMIT_REACHED: {
    status: 409,
    retryable: false,
    description:
      'The business’s plan does not allow this: `details.limit` (or `details.feature`), `details.plan`, `details.max` and `details.upgrade_to`, the lowest plan that lifts it (null when none does). Nothing changed.',
  },
  PLAN_NOT_FOUND: {
    status: 404,
    retryable: false,
    description: 'No plan with this id. Nothing changed.',
  },
  // The ledger (issue 6): refused transfers, holds, posts and voids. Amounts in details are
  // strings of minor units.
  LEDGER_INSUFFICIENT_FUNDS: {
    status: 402,
    retryable: false,
    description:
      'The debit account’s available balance (posted minus held) less the amount would go below what its overdraft limit allows. `details.account_id`, `details.available`, `details.amount` and `details.overdraft_limit` say by how much. Nothing changed.',
  },
  LEDGER_ACCOUNT_NOT_FOUND: {
    status: 404,
    retryable: false,
    description:
      'No ledger account with this id (or code and currency): `details.account_id`. Nothing changed.',
  },
  LEDGER_CURRENCY_MISMATCH: {
    status: 400,
    retryable: false,
    description:
      'A transfer moves money within one currency: its `details.currency` must equal both accounts’ currencies (`details.debit_currency`, `details.credit_currency`). Nothing changed.',
  },
  LEDGER_INVALID_AMOUNT: {
    status: 400,
    retryable: false,
    description:
      'An amount must be a whole number of minor units above zero that fits in 64 bits (and keeps the account’s sums within 64 bits): `details.amount`. Nothing changed.',
  },
  LEDGER_SAME_ACCOUNT: {
    status: 400,
    retryable: false,
    description: 'A transfer must debit and credit two different accounts. Nothing changed.',
  },
  LEDGER_IDEMPOTENCY_CONFLICT: {
    status: 409,
    retryable: false,
    description:
      'This idempotency key was already used for a different transfer (other accounts, amount, currency or type): `details.key`, `details.transfer_id`. Repeating the same request with the same key returns the first result instead. Nothing changed.',
  },
  LEDGER_PENDING_NOT_FOUND: {
    status: 404,
    retryable: false,
    description: 'No hold (pending transfer) with this id: `details.pending_id`. Nothing changed.',
  },
  LEDGER_PENDING_RESOLVED: {
    status: 409,
    retryable: false,
    description:
      'The hold is no longer pending: `details.resolution` says whether it was `post`ed, `void`ed or has `expired` (its money is released when the expiry task voids it). Nothing changed.',
  },
  LEDGER_POST_EXCEEDS_PENDING: {
    status: 400,
    retryable: false,
    description:
      'A hold can be posted for at most the amount it holds (`details.held`); the rest is released. Nothing changed.',
  },
  BROADCAST_LIST_NOT_FOUND: {
    status: 404,
    retryable: false,
    description:
      'No broadcast list with this id in this business (another business’s lists answer the same). Nothing changed.',
  },
  BROADCAST_RECIPIENT_NOT_OPTED_IN: {
    status: 409,
    retryable: false,
    description:
      'Only people who have the business’s number in their contacts or have messaged the business can be on its broadcast lists. `details.not_opted_in` lists the refused members. Nothing changed.',
  },
  LABEL_NOT_FOUND: {
    status: 404,
    retryable: false,
    description:
      'No label with this id in this business. Another business’s label ids answer the same as unknown ones. Nothing changed.',
  },
  LABEL_NAME_TAKEN: {
    status: 409,
    retryable: false,
    description:
      'The business already has a label of this name (names are compared without regard to case). Nothing changed.',
  },
  TOKEN_NOT_FOUND: {
    status: 404,
    retryable: false,
    description:
      'No live API access token with this id in this business (unknown, another business’s, or already revoked). Nothing changed.',
  },
  LINK_NOT_FOUND: {
    status: 404,
    retryable: false,
    description:
      'No short link with this code (or it was deleted; for the management API: no link of this business). Nothing changed.',
  },
  LINK_CODE_TAKEN: {
    status: 409,
    retryable: false,
    description:
      'The custom short-link code is in use, or was used by another business: codes printed on QR codes are never handed to someone else. Nothing changed.',
  },
  PAYLOAD_TOO_LARGE: {
    status: 413,
    retryable: false,
    description:
      'A message payload exceeds 64 KiB (decoded), or a request body exceeds its limit. Nothing was stored.',
  },
  FRAME_MALFORMED: {
    status: 400,
    retryable: false,
    description:
      'A WebSocket frame was not a JSON object with a string `op`, or was binary. The connection stays open.',
  },
  FRAME_UNKNOWN_OP: {
    status: 400,
    retryable: false,
    description: 'A WebSocket frame named an `op` this server does not know. The connection stays open.',
  },
  FRAME_TOO_LARGE: {
    status: 413,
    retryable: false,
    description:
      'A WebSocket frame exceeded the 128 KiB frame limit. Signalled by the close code 1009 (no error frame: the connection closes at once).',
  },
  HELLO_REQUIRED: {
    status: 401,
    retryable: false,
    description:
      'The first frame on a WebSocket must be `hello` with a device token, within 10 seconds. The server closes the connection (close code 4401).',
  },
  DEVICE_DISPLACED: {
    status: 409,
    retryable: false,
    description:
      'Another connection signed in as the same device; this one is closed (close code 4409). Clients must not reconnect automatically.',
  },
  SERVER_BUSY: {
    status: 503,
    retryable: true,
    description:
      'The server is shedding load (its write queue is full, or it is shutting down). Nothing was stored; retry with the same client message id.',
  },
  STORAGE_UNAVAILABLE: {
    status: 503,
    retryable: true,
    description: 'The database did not answer. Nothing was acknowledged; retry later.',
  },
  SMS_DELIVERY_FAILED: {
    status: 502,
    retryable: true,
    description: 'The SMS gateway refused or did not answer; the code was not sent.',
  },
  TEMPLATE_NOT_FOUND: {
    status: 404,
    retryable: false,
    description:
      'Operator: no message template with this id (template ids are numeric strings). Nothing changed.',
  },
  TEMPLATE_NOT_REVIEWABLE: {
    status: 409,
    retryable: false,
    description:
      'Operator: the template’s status does not allow this review action (approve takes PENDING or REJECTED templates; reject takes PENDING, APPROVED or PAUSED ones). `details.status` is its status. Nothing changed.',
  },
  // billing: accounts and metering
  BILLING_INSUFFICIENT_FUNDS: {
    status: 402,
    retryable: false,
    description:
      "The send would cost more than the business's balance plus credit line allows, so nothing was sent or charged. `details` gives `needed_minor`, `available_minor` and `currency`; top up or raise the credit line. (The Business Messaging API reports this as Graph error 131042.)",
  },
  BILLING_CURRENCY_LOCKED: {
    status: 409,
    retryable: false,
    description:
      'The billing account already holds money or charges in its currency, so the currency cannot change.',
  },
  BILLING_ACCOUNT_NOT_FOUND: {
    status: 404,
    retryable: false,
    description: 'There is no billing account with this id. Nothing changed.',
  },
  BILLING_RECONCILE_INVALID: {
    status: 400,
    retryable: false,
    description: 'The period to reconcile is not a month written `YYYY-MM`.',
  },
  // end billing: accounts and metering
  // billing: money, rate cards and pricing models (issue 6)
  BILLING_UNKNOWN_CURRENCY: {
    status: 400,
    retryable: false,
    description:
      'The currency is not an ISO 4217 code this server knows (for example `USD`, `EUR`, `INR`). `details.currency` echoes it. Nothing changed.',
  },
  BILLING_INVALID_AMOUNT: {
    status: 400,
    retryable: false,
    description:
      'An amount of money must be a whole number of minor units (cents), ≥ 0 (> 0 where a payment or top-up is meant), given as a string of digits such as `"1250"`. Fractions, negatives and floats are refused. Nothing changed.',
  },
  BILLING_RATE_CARD_INVALID: {
    status: 400,
    retryable: false,
    description:
      'Operator: the rate card is malformed. `details.errors` lists each bad row with its `line` (CSV line, header = 1) and the reason: unknown category, market not an ISO 3166 alpha-2 code or `*`, price not a decimal ≥ 0 with at most 6 decimals, duplicate row, volume tier for marketing or service, or dates out of order. Nothing changed.',
  },
  BILLING_RATE_CARD_OVERLAP: {
    status: 409,
    retryable: false,
    description:
      'Operator: the new rate-card version overlaps an existing version of the same currency in time. `details.clash` is that version. To replace an open-ended version from a date, import with `supersede`. Nothing changed.',
  },
  BILLING_RATE_CARD_NOT_FOUND: {
    status: 404,
    retryable: false,
    description:
      'Operator: no rate-card version with this id (or none in force at that time). Nothing changed.',
  },
  BILLING_RATE_CARD_IN_FORCE: {
    status: 409,
    retryable: false,
    description:
      'Operator: the rate-card version is (or was) in force, so it cannot be deleted or edited: charges name it. Import a new version instead. Nothing changed.',
  },
  BILLING_PRICING_MODEL_INVALID: {
    status: 400,
    retryable: false,
    description:
      'Operator: the pricing model must be `PMP`, `CBP` or `PMP_2026`, with a valid start date not before the last switch already in force. Nothing changed.',
  },
  // end billing (rate cards)
  // billing: invoices
  BILLING_INVOICE_NOT_FOUND: {
    status: 404,
    retryable: false,
    description: 'No invoice has this id (or it belongs to another business). Nothing changed.',
  },
  BILLING_INVOICE_NOT_DRAFT: {
    status: 409,
    retryable: false,
    description:
      'The invoice is finalized, paid or void and can no longer change; `details.status` is its status. Corrections are credit notes. Nothing changed.',
  },
  BILLING_INVOICE_NOT_FINALIZED: {
    status: 409,
    retryable: false,
    description:
      'Paying or voiding needs a finalized invoice (finalize a draft first; a paid or void invoice stays as it is). `details.status` is its status. Nothing changed.',
  },
  BILLING_TAX_RATE_INVALID: {
    status: 400,
    retryable: false,
    description:
      'A tax rate needs an ISO 3166 two-letter country, a whole number of basis points from 0 to 10000 (1900 = 19 %), a name of 1 to 32 characters and a valid date. Nothing changed.',
  },
  BILLING_CREDIT_INVALID: {
    status: 400,
    retryable: false,
    description:
      'A credit note needs a billing account, a whole amount of minor units above 0, a reason, and (if given) an invoice of the same account. Nothing changed.',
  },
  // end billing: invoices
  // Subscriptions, consumer plan, payment providers and top-ups (issue 6).
  BILLING_IDEMPOTENCY_CONFLICT: {
    status: 409,
    retryable: false,
    description:
      'This idempotency key was already used for a different request (another amount, account or provider). A replay with the same request returns the first result; use a new key for a new request.',
  },
  BILLING_PAYMENT_FAILED: {
    status: 402,
    retryable: true,
    description:
      'The payment could not be collected: the balance does not cover it and the payment provider declined it or has not confirmed it yet (`details.status`, `details.reason`). Nothing was charged.',
  },
  BILLING_PROVIDER_UNKNOWN: {
    status: 400,
    retryable: false,
    description: 'No payment provider with this id is configured. `details.providers` lists those that are.',
  },
  BILLING_PLAN_CURRENCY_MISMATCH: {
    status: 400,
    retryable: false,
    description:
      "The plan is priced in another currency than the business's billing account. Nothing changed.",
  },
  BILLING_SUBSCRIPTION_NOT_FOUND: {
    status: 404,
    retryable: false,
    description: 'The business has no live subscription. Nothing changed.',
  },
  BILLING_CONSUMER_PLAN_EXPIRED: {
    status: 402,
    retryable: false,
    description:
      'Sending is paused: the consumer plan expired and its grace period is over. Receiving still works; renew the plan to send again.',
  },
  // Partners (issue 6).
  BILLING_PARTNER_NOT_FOUND: {
    status: 404,
    retryable: false,
    description:
      'No partner with this id, or one you are not a member of (partners see only their own clients), or the business has no partner. Nothing changed.',
  },
  BILLING_PARTNER_INVALID: {
    status: 400,
    retryable: false,
    description:
      'A partner change is not valid: a markup is a whole number of basis points from 0 to 100,000 plus whole micros per unit ≥ 0, a category is one of marketing, utility, authentication, authentication_international, service, a name is 1 to 100 characters, a role is admin or viewer, or the business or person named does not exist. `details` says which. Nothing changed.',
  },
  INTERNAL_ERROR: {
    status: 500,
    retryable: true,
    description:
      'An unexpected server error. The response carries a `request_id` to quote; no internals are shown.',
  },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

/** The body of every REST error response and the fields of every `error` frame. */
export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
  request_id?: string;
}

/** Renders the registry as the Markdown page `docs/errors.md`. */
export function renderErrorsMarkdown(): string {
  const rows = Object.entries(ERROR_CODES).map(
    ([code, spec]) =>
      `| \`${code}\` | ${spec.status} | ${spec.retryable ? 'yes' : 'no'} | ${spec.description} |`,
  );
  return [
    '# Error codes',
    '',
    'Every error Parley returns carries one of these stable codes. REST responses have the body',
    '`{"error":{"code","message","details"?,"request_id"?}}` with the HTTP status below; WebSocket',
    'errors are `{"op":"error","code","message","id"?,"details"?}` frames (see `protocol.md`).',
    'Generated from `packages/protocol/src/errors.ts` by `npm run docs:errors`; a test keeps them equal.',
    '',
    '| code | HTTP | retry | meaning |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
