/**
 * Payment providers: where money comes from when a balance does not cover a fee, or when a
 * business tops up. A provider only collects; what it collects is booked by the top-up
 * service (a ledger transfer `external:<provider id>` → the account, and a receipt).
 *
 * Built in: `manual` (the operator collects outside Parley — a bank transfer, an invoice paid —
 * and records it with `parley billing topup`; `collect` answers `pending`) and `test`
 * (deterministic, for tests and demos: succeeds unless told to fail for an account).
 *
 * Adding a real provider: implement `PaymentProvider` in its own file (its `collect` calls the
 * provider's API with `key` as the provider's idempotency key and maps the answer to
 * succeeded / failed / pending), and pass it to `createPaymentProviders` in the composition
 * root. A provider's asynchronous confirmation (a webhook) then calls `topUp` with the same key.
 */
import { AppError } from '../../errors.js';

export interface CollectInput {
  billingAccountId: string;
  amountMinor: bigint;
  currency: string;
  /** The provider's idempotency key: a repeated collect with it never charges twice. */
  key: string;
  description: string;
}

export interface CollectResult {
  status: 'succeeded' | 'failed' | 'pending';
  reference?: string;
  reason?: string;
}

export interface PaymentProvider {
  id: string;
  collect(input: CollectInput): Promise<CollectResult>;
}

export function createManualProvider(): PaymentProvider {
  return {
    id: 'manual',
    async collect() {
      return { status: 'pending', reason: 'Waiting for the operator to record the payment.' };
    },
  };
}

/** The test provider: succeeds for every account except those told to fail. */
export function createTestProvider() {
  const failing = new Map<string, string>();
  const provider: PaymentProvider = {
    id: 'test',
    async collect(input) {
      const reason = failing.get(input.billingAccountId);
      if (reason !== undefined) return { status: 'failed', reason };
      return { status: 'succeeded', reference: `test_${input.key}` };
    },
  };
  return {
    ...provider,
    failFor(billingAccountId: string, reason = 'card declined'): void {
      failing.set(billingAccountId, reason);
    },
    succeedFor(billingAccountId: string): void {
      failing.delete(billingAccountId);
    },
  };
}

export function createPaymentProviders(providers: PaymentProvider[]) {
  const byId = new Map(providers.map((p) => [p.id, p]));
  return {
    get(id: string): PaymentProvider {
      const p = byId.get(id);
      if (!p) {
        throw new AppError('BILLING_PROVIDER_UNKNOWN', `No payment provider "${id}".`, {
          providers: [...byId.keys()],
        });
      }
      return p;
    },
    has(id: string): boolean {
      return byId.has(id);
    },
    ids(): string[] {
      return [...byId.keys()];
    },
  };
}

export type PaymentProviders = ReturnType<typeof createPaymentProviders>;
