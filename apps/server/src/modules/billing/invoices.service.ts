/**
 * Invoices: one per billing account and month (UTC), drafted from the month's immutable
 * `billing_charges` and then finalized, paid or voided.
 *
 * Model and invariants:
 * - A line is the period's charges of one account with the same stream, category, market and
 *   unit price; its amount is Σ (amount + partner markup) micros rounded to minor units once,
 *   with the charges' rounding mode. Free usage stays as zero-amount lines with its count.
 * - total = Σ lines + tax − credits, never negative: credits are capped at subtotal + tax and
 *   what is left of a credit note carries over to the next invoices.
 * - Tax = round(subtotal × bps / 10,000) half-even, at the rate of the account's country in
 *   force at the end of the period; no country or no rate: none.
 * - A draft is rebuilt from the charges whenever it is refreshed (lines replaced). Finalizing
 *   refreshes it once more, assigns the next number of the year from a counter updated in the
 *   same transaction (no gaps), and posts the tax from the account to `tax:<country>`
 *   (key `tax:<invoice>`). If the ledger refuses for want of funds the invoice is still
 *   finalized: the tax is then due and is posted when the invoice is paid.
 * - Finalized, paid and void invoices never change again (BILLING_INVOICE_NOT_DRAFT); a void
 *   keeps its number, reverses the tax (key `void-tax:<invoice>`) and gives back the credits
 *   it used. Usage charges are not reversed by a void: a correction is a credit note.
 * - Paying (the manual provider: the operator says it was paid) on a credit line posts
 *   `external:manual` → the account for the total (key `pay:<invoice>`), freeing the credit line.
 * - A credit note moves its amount from `revenue:<stream>` to the account (key
 *   `credit:<note>`) at once and is taken off the account's next finalized invoices.
 */
import type { Insertable } from 'kysely';
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { InvoiceLineKind, InvoiceLinesTable, InvoicesTable } from '../../platform/schema.js';
import type { LedgerOp, LedgerPort } from './invoices.ports.js';
import {
  type CreditNoteView,
  type InvoiceSummaryView,
  type InvoiceView,
  presentCreditNote,
  presentInvoice,
  presentInvoiceSummary,
} from './invoices.present.js';
import type {
  BillingAccountRow,
  ChargeGroup,
  CreditNoteRow,
  InvoiceRow,
  InvoicesRepo,
} from './invoices.repo.js';
import { currencyExponent, DEFAULT_ROUNDING, isRoundingMode, microsToMinor } from './money.js';
import { type TaxService, taxOf } from './tax.service.js';

export interface InvoicesServiceDeps {
  db: Pick<Db, 'kysely'>;
  repo: InvoicesRepo;
  tax: Pick<TaxService, 'ratesAt'>;
  ledger: LedgerPort;
  clock: Clock;
  ids: Ids;
  /** Invoice numbers read `<prefix>-2026-000001`, credit notes `<prefix>-CN-2026-000001`. */
  numberPrefix?: string;
  /** Days from finalization to the due date. */
  dueDays?: number;
}

export interface IssueCreditInput {
  businessId?: string | undefined;
  billingAccountId?: string | undefined;
  amountMinor: unknown;
  reason: string;
  invoiceId?: string | undefined;
  /** The revenue stream the credit comes out of (default api_messages). */
  stream?: string | undefined;
}

const PERIOD = /^(\d{4})-(0[1-9]|1[0-2])$/;
const STREAMS = ['api_messages', 'premium_plan', 'consumer_plan', 'payment_commission', 'adjustment'];
const KIND_ORDER: Record<InvoiceLineKind, number> = { usage: 0, subscription: 1, fee: 2, credit: 3 };

/** The first millisecond of the period's month and of the next one (UTC). */
export function periodBounds(period: string): { start: number; end: number } {
  const m = PERIOD.exec(period);
  if (!m) throw new AppError('VALIDATION_FAILED', `A period is a month, YYYY-MM (2026-11), not "${period}".`);
  const year = Number(m[1]);
  const month = Number(m[2]) - 1;
  return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) };
}

/** The UTC month of `at`, YYYY-MM. */
export function periodOf(at: number): string {
  return new Date(at).toISOString().slice(0, 7);
}

function lineKind(stream: string, amountMicros: bigint): InvoiceLineKind {
  if (amountMicros < 0n) return 'credit';
  if (stream === 'api_messages') return 'usage';
  if (stream === 'premium_plan' || stream === 'consumer_plan') return 'subscription';
  return 'fee';
}

function describe(group: ChargeGroup, unitMicros: bigint): string {
  if (group.stream !== 'api_messages') return group.description ?? group.stream.replaceAll('_', ' ');
  const category = (group.category ?? 'other').replaceAll('_', ' ');
  const what = `${category.charAt(0).toUpperCase()}${category.slice(1)} messages`;
  return `${what}${group.market ? ` to ${group.market}` : ''}${unitMicros === 0n ? ' (free)' : ''}`;
}

// Compared as a string: the ledger's codes are registered by the ledger module.
const isInsufficientFunds = (e: AppError): boolean => (e.code as string) === 'LEDGER_INSUFFICIENT_FUNDS';

interface Draft {
  invoice: Insertable<InvoicesTable> & { id: string };
  lines: Insertable<InvoiceLinesTable>[];
}

export function createInvoicesService(deps: InvoicesServiceDeps) {
  const { db, repo, tax, ledger, clock, ids } = deps;
  const prefix = deps.numberPrefix ?? 'PAR';
  const dueMs = (deps.dueDays ?? 14) * 86_400_000;

  function notFound(id: string): AppError {
    return new AppError('BILLING_INVOICE_NOT_FOUND', `No invoice ${id}.`, { invoice_id: id });
  }
  function notDraft(row: InvoiceRow): AppError {
    return new AppError('BILLING_INVOICE_NOT_DRAFT', `Invoice ${row.number ?? row.id} is ${row.status}.`, {
      invoice_id: row.id,
      status: row.status,
    });
  }
  function notFinalized(row: InvoiceRow): AppError {
    return new AppError(
      'BILLING_INVOICE_NOT_FINALIZED',
      `Invoice ${row.number ?? row.id} is ${row.status}; this needs a finalized invoice.`,
      { invoice_id: row.id, status: row.status },
    );
  }

  /** The lines of one account's period from its charge groups, in a stable order. */
  function buildLines(invoiceId: string, currency: string, groups: ChargeGroup[]) {
    const lines = groups.map((g) => {
      const amountMicros = BigInt(g.amount_micros);
      const unit = BigInt(g.unit_micros);
      const rounding = isRoundingMode(g.rounding) ? g.rounding : DEFAULT_ROUNDING;
      return {
        kind: lineKind(g.stream, amountMicros),
        stream: g.stream,
        category: g.category,
        market: g.market,
        quantity: Number(g.quantity),
        unit_price_micros: unit.toString(),
        amount_micros: amountMicros.toString(),
        amount_minor: microsToMinor(amountMicros, currency, rounding),
        description: describe(g, unit),
      };
    });
    lines.sort(
      (a, b) =>
        KIND_ORDER[a.kind] - KIND_ORDER[b.kind] ||
        a.stream.localeCompare(b.stream) ||
        (a.category ?? '').localeCompare(b.category ?? '') ||
        (a.market ?? '').localeCompare(b.market ?? '') ||
        Number(BigInt(b.unit_price_micros) - BigInt(a.unit_price_micros)) ||
        a.description.localeCompare(b.description),
    );
    const subtotal = lines.reduce((sum, l) => sum + l.amount_minor, 0n);
    return {
      subtotal,
      rows: lines.map(
        (l, i): Insertable<InvoiceLinesTable> => ({
          ...l,
          invoice_id: invoiceId,
          position: i + 1,
          amount_minor: l.amount_minor.toString(),
        }),
      ),
    };
  }

  /** Per account, the credit notes with something left, oldest first, and how much is left. */
  async function openCredit(tx: Executor, accountIds: string[]) {
    const notes = await repo.openCreditNotes(tx, accountIds);
    const used = await repo.usedCredit(
      tx,
      notes.map((n) => n.id),
    );
    const out = new Map<string, { note: CreditNoteRow; left: bigint }[]>();
    for (const note of notes) {
      const left = BigInt(note.amount_minor) - (used.get(note.id) ?? 0n);
      if (left <= 0n) continue;
      const list = out.get(note.billing_account_id) ?? [];
      list.push({ note, left });
      out.set(note.billing_account_id, list);
    }
    return out;
  }

  /**
   * Creates or rebuilds the period's drafts: of the given accounts, or of every account with
   * charges in the period (and every existing draft). Invoices past draft are left alone.
   * One grouped query over the period's charges, then multi-row writes.
   */
  async function refresh(tx: Executor, period: string, accountIds?: string[]): Promise<InvoiceRow[]> {
    const { end } = periodBounds(period);
    const groups = await repo.chargeGroups(tx, period, accountIds);
    const existing = await repo.ofPeriod(tx, period, accountIds);
    const byAccount = new Map<string, ChargeGroup[]>();
    for (const g of groups) {
      const list = byAccount.get(g.billing_account_id) ?? [];
      list.push(g);
      byAccount.set(g.billing_account_id, list);
    }
    const existingOf = new Map(existing.map((i) => [i.billing_account_id, i]));
    const wanted = new Set<string>(accountIds ?? [...byAccount.keys()]);
    if (!accountIds) for (const i of existing) if (i.status === 'draft') wanted.add(i.billing_account_id);
    const targets = [...wanted].filter((id) => (existingOf.get(id)?.status ?? 'draft') === 'draft');
    if (targets.length === 0) return [];

    const accounts = new Map((await repo.accounts(tx, targets)).map((a) => [a.id, a]));
    const missing = targets.filter((id) => !accounts.has(id));
    if (missing.length > 0) {
      throw new AppError('BILLING_INVOICE_NOT_FOUND', `No billing account ${missing.join(', ')}.`, {
        billing_account_ids: missing,
      });
    }
    const rates = await tax.ratesAt(
      tx,
      [...accounts.values()].flatMap((a) => (a.country ? [a.country] : [])),
      end - 1,
    );
    const credit = await openCredit(tx, targets);
    const now = clock.now();

    const fresh: Draft[] = [];
    const rebuilt: Draft[] = [];
    for (const accountId of targets) {
      const account = accounts.get(accountId) as BillingAccountRow;
      const current = existingOf.get(accountId);
      const id = current?.id ?? ids.newId('inv');
      const { subtotal, rows } = buildLines(id, account.currency, byAccount.get(accountId) ?? []);
      const rate = account.country ? rates.get(account.country) : undefined;
      const taxMinor = rate ? taxOf(subtotal, rate.rateBps) : 0n;
      const available = (credit.get(accountId) ?? []).reduce((s, c) => s + c.left, 0n);
      const gross = subtotal + taxMinor;
      const credits = gross <= 0n ? 0n : available < gross ? available : gross;
      const invoice: Draft['invoice'] = {
        id,
        billing_account_id: accountId,
        business_id: account.owner_type === 'business' ? account.owner_id : null,
        person_account_id: account.owner_type === 'person' ? account.owner_id : null,
        period,
        currency: account.currency,
        status: 'draft',
        number: null,
        subtotal_minor: subtotal.toString(),
        tax_minor: taxMinor.toString(),
        credits_minor: credits.toString(),
        total_minor: (gross - credits).toString(),
        tax_country: rate ? rate.country : null,
        tax_rate_bps: rate ? rate.rateBps : null,
        tax_name: rate ? rate.name : null,
        tax_transfer_id: null,
        issued_at: null,
        due_at: null,
        paid_at: null,
        paid_provider: null,
        paid_reference: null,
        voided_at: null,
        void_reason: null,
        created_at: current?.created_at ?? now,
        updated_at: now,
      };
      (current ? rebuilt : fresh).push({ invoice, lines: rows });
    }
    await repo.insertInvoices(
      tx,
      fresh.map((d) => d.invoice),
    );
    for (const d of rebuilt) {
      const { id, created_at: _created, ...patch } = d.invoice;
      await repo.update(tx, id, patch);
    }
    await repo.deleteLines(
      tx,
      rebuilt.map((d) => d.invoice.id),
    );
    await repo.insertLines(
      tx,
      [...fresh, ...rebuilt].flatMap((d) => d.lines),
    );
    return [...fresh, ...rebuilt].map((d) => ({ ...d.invoice }) as InvoiceRow);
  }

  /** Numbers, applies credits to, posts the tax of and finalizes refreshed drafts. */
  async function finalizeDrafts(tx: Executor, drafts: InvoiceRow[]): Promise<void> {
    if (drafts.length === 0) return;
    const now = clock.now();
    const year = new Date(now).getUTCFullYear();
    const first = await repo.reserveNumbers(tx, `${prefix}-${year}`, drafts.length);
    const accountIds = [...new Set(drafts.map((d) => d.billing_account_id))];
    const accounts = new Map((await repo.accounts(tx, accountIds)).map((a) => [a.id, a]));
    const credit = await openCredit(tx, accountIds);

    const applications: {
      invoice_id: string;
      credit_note_id: string;
      amount_minor: string;
      created_at: number;
    }[] = [];
    const usedUp = new Map<string, string[]>();
    const taxAccounts = new Map<string, string>();
    const ops: LedgerOp[] = [];
    const taxOps = new Map<string, number>();
    for (const d of drafts) {
      let need = BigInt(d.credits_minor);
      for (const c of credit.get(d.billing_account_id) ?? []) {
        if (need === 0n) break;
        if (c.left === 0n) continue;
        const take = c.left < need ? c.left : need;
        c.left -= take;
        need -= take;
        applications.push({
          invoice_id: d.id,
          credit_note_id: c.note.id,
          amount_minor: take.toString(),
          created_at: now,
        });
        if (c.left === 0n) usedUp.set(d.id, [...(usedUp.get(d.id) ?? []), c.note.id]);
      }
      const taxMinor = BigInt(d.tax_minor);
      if (taxMinor > 0n && d.tax_country) {
        const code = `tax:${d.tax_country}`;
        const key = `${code}/${d.currency}`;
        let taxAccount = taxAccounts.get(key);
        if (!taxAccount) {
          taxAccount = (
            await ledger.openAccount(tx, { code, currency: d.currency, kind: 'tax', overdraftLimit: null })
          ).id;
          taxAccounts.set(key, taxAccount);
        }
        const account = accounts.get(d.billing_account_id) as BillingAccountRow;
        taxOps.set(d.id, ops.length);
        ops.push({
          type: 'transfer',
          key: `tax:${d.id}`,
          debitAccountId: account.ledger_account_id,
          creditAccountId: taxAccount,
          amount: taxMinor,
          currency: d.currency,
          kind: 'tax',
          ref: d.id,
        });
      }
    }
    const results = ops.length > 0 ? await ledger.apply(tx, ops) : [];
    await repo.insertApplications(tx, applications);
    for (const [invoiceId, noteIds] of usedUp) await repo.markNotesUsed(tx, invoiceId, noteIds);
    for (const [i, d] of drafts.entries()) {
      const at = taxOps.get(d.id);
      const result = at === undefined ? undefined : results[at];
      // Refused for want of funds: finalized all the same, the tax is posted when it is paid.
      if (result && !result.ok && !isInsufficientFunds(result.error)) throw result.error;
      await repo.update(tx, d.id, {
        status: 'finalized',
        number: `${prefix}-${year}-${(first + BigInt(i)).toString().padStart(6, '0')}`,
        issued_at: now,
        due_at: now + dueMs,
        tax_transfer_id: result?.ok ? result.transfer.id : null,
        updated_at: now,
      });
    }
  }

  async function view(tx: Executor, row: InvoiceRow): Promise<InvoiceView> {
    return presentInvoice(row, await repo.lines(row.id, tx));
  }

  async function locked(tx: Executor, invoiceId: string): Promise<InvoiceRow> {
    const row = await repo.lock(tx, invoiceId);
    if (!row) throw notFound(invoiceId);
    return row;
  }

  async function accountOf(tx: Executor, row: InvoiceRow): Promise<BillingAccountRow> {
    const [account] = await repo.accounts(tx, [row.billing_account_id]);
    if (!account)
      throw new AppError('BILLING_INVOICE_NOT_FOUND', `No billing account ${row.billing_account_id}.`);
    return account;
  }

  async function ledgerOrThrow(tx: Executor, ops: LedgerOp[]) {
    const results = await ledger.apply(tx, ops);
    for (const r of results) if (!r.ok) throw r.error;
    return results;
  }

  return {
    /** Creates or refreshes the period's draft of a billing account (its lines replaced). */
    async draftFor(tx: Executor, billingAccountId: string, period: string): Promise<InvoiceView> {
      await refresh(tx, period, [billingAccountId]);
      const [row] = await repo.ofPeriod(tx, period, [billingAccountId]);
      if (!row) throw notFound(`${billingAccountId}/${period}`);
      if (row.status !== 'draft') throw notDraft(row);
      return view(tx, row);
    },

    /** Refreshes a draft one last time and finalizes it (next number, tax posted). */
    async finalize(invoiceId: string): Promise<InvoiceView> {
      return db.kysely.transaction().execute(async (tx) => {
        const row = await locked(tx, invoiceId);
        if (row.status !== 'draft') throw notDraft(row);
        const drafts = await refresh(tx, row.period, [row.billing_account_id]);
        await finalizeDrafts(tx, drafts);
        return view(tx, await locked(tx, invoiceId));
      });
    },

    /**
     * Drafts and finalizes the period's invoices of every account with charges; invoices
     * already finalized, paid or void are left alone, so running it again changes nothing.
     */
    async closePeriod(period: string): Promise<{ period: string; finalized: number; invoices: number }> {
      periodBounds(period);
      return db.kysely.transaction().execute(async (tx) => {
        const drafts = await refresh(tx, period);
        await finalizeDrafts(tx, drafts);
        const all = await repo.ofPeriod(tx, period);
        return { period, finalized: drafts.length, invoices: all.length };
      });
    },

    /** The manual provider: the operator says the invoice was paid. Paying twice changes nothing. */
    async markPaid(
      invoiceId: string,
      payment: { provider?: string | undefined; reference?: string | undefined } = {},
    ): Promise<InvoiceView> {
      return db.kysely.transaction().execute(async (tx) => {
        const row = await locked(tx, invoiceId);
        if (row.status === 'paid') return view(tx, row);
        if (row.status !== 'finalized') throw notFinalized(row);
        const account = await accountOf(tx, row);
        const total = BigInt(row.total_minor);
        const taxMinor = BigInt(row.tax_minor);
        const taxDue = taxMinor > 0n && row.tax_transfer_id === null && row.tax_country !== null;
        // A credit line owes the whole total; a prepaid balance already paid the usage and owes
        // only a tax the ledger refused at finalization.
        const due = account.mode === 'credit' ? total : taxDue ? taxMinor : 0n;
        const ops: LedgerOp[] = [];
        if (due > 0n) {
          const external = await ledger.openAccount(tx, {
            code: 'external:manual',
            currency: row.currency,
            kind: 'external',
            overdraftLimit: null,
          });
          ops.push({
            type: 'transfer',
            key: `pay:${row.id}`,
            debitAccountId: external.id,
            creditAccountId: account.ledger_account_id,
            amount: due,
            currency: row.currency,
            kind: 'payment',
            ref: row.id,
          });
        }
        if (taxDue && row.tax_country) {
          const taxAccount = await ledger.openAccount(tx, {
            code: `tax:${row.tax_country}`,
            currency: row.currency,
            kind: 'tax',
            overdraftLimit: null,
          });
          ops.push({
            type: 'transfer',
            key: `tax:${row.id}`,
            debitAccountId: account.ledger_account_id,
            creditAccountId: taxAccount.id,
            amount: taxMinor,
            currency: row.currency,
            kind: 'tax',
            ref: row.id,
          });
        }
        const results = ops.length > 0 ? await ledgerOrThrow(tx, ops) : [];
        const taxResult = taxDue ? results[results.length - 1] : undefined;
        const now = clock.now();
        await repo.update(tx, row.id, {
          status: 'paid',
          paid_at: now,
          paid_provider: payment.provider ?? 'manual',
          paid_reference: payment.reference ?? null,
          tax_transfer_id: taxResult?.ok ? taxResult.transfer.id : row.tax_transfer_id,
          updated_at: now,
        });
        return view(tx, await locked(tx, row.id));
      });
    },

    /** Voids a finalized invoice: keeps its number, reverses its tax, gives back its credits. */
    async void(invoiceId: string, reason: string): Promise<InvoiceView> {
      const why = reason.trim();
      if (why.length < 1 || why.length > 500) {
        throw new AppError('VALIDATION_FAILED', 'A void needs a reason of 1 to 500 characters.');
      }
      return db.kysely.transaction().execute(async (tx) => {
        const row = await locked(tx, invoiceId);
        if (row.status !== 'finalized') throw notFinalized(row);
        if (row.tax_transfer_id !== null && row.tax_country !== null) {
          const account = await accountOf(tx, row);
          const taxAccount = await ledger.openAccount(tx, {
            code: `tax:${row.tax_country}`,
            currency: row.currency,
            kind: 'tax',
            overdraftLimit: null,
          });
          await ledgerOrThrow(tx, [
            {
              type: 'transfer',
              key: `void-tax:${row.id}`,
              debitAccountId: taxAccount.id,
              creditAccountId: account.ledger_account_id,
              amount: BigInt(row.tax_minor),
              currency: row.currency,
              kind: 'tax_reversal',
              ref: row.id,
            },
          ]);
        }
        const now = clock.now();
        await repo.update(tx, row.id, { status: 'void', voided_at: now, void_reason: why, updated_at: now });
        await repo.releaseNotes(tx, row.id);
        return view(tx, await locked(tx, row.id));
      });
    },

    /** A correction: credited to the account now, taken off its next invoices. */
    async issueCredit(input: IssueCreditInput): Promise<CreditNoteView> {
      const invalid = (message: string) => new AppError('BILLING_CREDIT_INVALID', message);
      let amount: bigint;
      const raw = input.amountMinor;
      if (typeof raw === 'bigint') amount = raw;
      else if (typeof raw === 'number' && Number.isSafeInteger(raw)) amount = BigInt(raw);
      else if (typeof raw === 'string' && /^\d{1,18}$/.test(raw)) amount = BigInt(raw);
      else throw invalid('A credit is a whole number of minor units above 0 ("1250").');
      if (amount <= 0n) throw invalid('A credit is a whole number of minor units above 0 ("1250").');
      const reason = input.reason.trim();
      if (reason.length < 1 || reason.length > 500)
        throw invalid('A credit note needs a reason (1 to 500 characters).');
      const stream = input.stream ?? 'api_messages';
      if (!STREAMS.includes(stream))
        throw invalid(`Unknown revenue stream "${stream}" (${STREAMS.join(', ')}).`);
      return db.kysely.transaction().execute(async (tx) => {
        let account: BillingAccountRow | undefined;
        if (input.billingAccountId) [account] = await repo.accounts(tx, [input.billingAccountId]);
        else if (input.businessId) account = await repo.accountOfOwner(tx, 'business', input.businessId);
        if (!account) throw invalid('No billing account for this business.');
        if (input.invoiceId) {
          const invoice = await repo.find(input.invoiceId, tx);
          if (!invoice || invoice.billing_account_id !== account.id) {
            throw invalid(`Invoice ${input.invoiceId} is not one of this account's invoices.`);
          }
        }
        currencyExponent(account.currency);
        const now = clock.now();
        const year = new Date(now).getUTCFullYear();
        const id = ids.newId('crn');
        const first = await repo.reserveNumbers(tx, `${prefix}-CN-${year}`, 1);
        const revenue = await ledger.openAccount(tx, {
          code: `revenue:${stream}`,
          currency: account.currency,
          kind: 'revenue',
          overdraftLimit: null,
        });
        const [result] = await ledgerOrThrow(tx, [
          {
            type: 'transfer',
            key: `credit:${id}`,
            debitAccountId: revenue.id,
            creditAccountId: account.ledger_account_id,
            amount,
            currency: account.currency,
            kind: 'credit_note',
            ref: id,
          },
        ]);
        const row: CreditNoteRow = {
          id,
          number: `${prefix}-CN-${year}-${first.toString().padStart(6, '0')}`,
          billing_account_id: account.id,
          invoice_id: input.invoiceId ?? null,
          stream,
          currency: account.currency,
          amount_minor: amount.toString(),
          reason,
          ledger_transfer_id: result?.ok ? result.transfer.id : null,
          applied_invoice_id: null,
          created_at: now,
        };
        await repo.insertCreditNote(tx, row);
        return presentCreditNote(row);
      });
    },

    async creditNotes(billingAccountId: string): Promise<CreditNoteView[]> {
      return (await repo.creditNotes(billingAccountId)).map(presentCreditNote);
    },

    async get(invoiceId: string): Promise<InvoiceView> {
      const row = await repo.find(invoiceId);
      if (!row) throw notFound(invoiceId);
      return view(db.kysely, row);
    },

    /** An invoice of this business (another business's invoice is not found). */
    async getForBusiness(businessId: string, invoiceId: string): Promise<InvoiceView> {
      const row = await repo.find(invoiceId);
      if (!row || row.business_id !== businessId) throw notFound(invoiceId);
      return view(db.kysely, row);
    },

    async list(filter: {
      businessId?: string | undefined;
      period?: string | undefined;
      status?: string | undefined;
      limit?: number | undefined;
    }): Promise<InvoiceSummaryView[]> {
      if (filter.period !== undefined) periodBounds(filter.period);
      const rows = await repo.list({
        ...(filter.businessId !== undefined ? { businessId: filter.businessId } : {}),
        ...(filter.period !== undefined ? { period: filter.period } : {}),
        ...(filter.status !== undefined ? { status: filter.status } : {}),
        limit: filter.limit ?? 100,
      });
      return rows.map(presentInvoiceSummary);
    },

    /** The business's name, for the PDF. */
    async businessName(businessId: string): Promise<string | undefined> {
      return repo.businessName(db.kysely, businessId);
    },
  };
}

export type InvoicesService = ReturnType<typeof createInvoicesService>;
