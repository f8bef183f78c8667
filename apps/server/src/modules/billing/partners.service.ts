/**
 * Partners (business solution providers): a partner manages client businesses, sees their
 * usage, and adds its own markup on top of the operator's rate card. The operator creates
 * partners, attaches businesses (a business has at most one partner) and names members;
 * members see their partner's clients and usage, and nothing of other partners.
 *
 * `markupFor` is on the metering path (every billable event), so it answers from memory:
 * a snapshot of all partners' markups and clients. Writes through this service drop the
 * snapshot after commit; writes by other processes are noticed by reading one revision
 * counter (bumped in every writing transaction) at most once per `recheckMs`. A snapshot is
 * loaded inside the caller's transaction (on SQLite, any other connection use would wait on
 * it); a load that raced a local write is not kept.
 */
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { PartnerRole } from '../../platform/schema.js';
import type { DeviceActor } from '../accounts/index.js';
import { normalizePhone } from '../accounts/index.js';
import { microsToMinor } from './money.js';
import {
  BILLING_CATEGORIES,
  type BillingCategory,
  MAX_MARKUP_BPS,
  MAX_MARKUP_MICROS,
  type Markup,
} from './partners.markup.js';
import type { PartnerRow, PartnersRepo } from './partners.repo.js';

export interface PartnersServiceDeps {
  db: Pick<Db, 'kysely'>;
  repo: PartnersRepo;
  /** The businesses and people partners name (the business module's repository). */
  directory: {
    find(businessId: string, tx?: Executor): Promise<{ id: string; name: string } | undefined>;
    accountByKey(
      key: string,
      tx?: Executor,
    ): Promise<{ id: string; phone: string; business_id: string | null } | undefined>;
  };
  clock: Clock;
  ids: Pick<Ids, 'newId'>;
  /** How long a snapshot of markups is trusted before checking for other processes' writes. */
  recheckMs?: number;
}

export interface MarkupFor {
  partnerId: string;
  markupBps: number;
  markupMicros: bigint;
}

export interface PartnerView {
  partner_id: string;
  name: string;
  markup_bps: number;
  markup_micros: string;
  markups: { category: string; markup_bps: number; markup_micros: string }[];
  clients: { business_id: string; name: string | null; since: string }[];
  members: { account_id: string; phone: string | null; name: string | null; role: PartnerRole }[];
  created_at: string;
}

export interface PartnerUsageLine {
  business_id: string;
  business_name: string | null;
  category: string | null;
  currency: string;
  count: number;
  billable: number;
  operator_minor: string;
  partner_minor: string;
  operator_micros: string;
  partner_micros: string;
}

export interface PartnerUsageView {
  partner_id: string;
  period: string;
  lines: PartnerUsageLine[];
  totals: {
    currency: string;
    count: number;
    billable: number;
    operator_minor: string;
    partner_minor: string;
    operator_micros: string;
    partner_micros: string;
  }[];
}

export interface MarkupInput {
  category?: string | undefined;
  bps: unknown;
  micros?: unknown;
}

interface Snapshot {
  revision: bigint;
  checkedAt: number;
  clientPartner: Map<string, string>;
  /** Per partner: per category, then `''` for the default. */
  markups: Map<string, Map<string, MarkupFor>>;
}

const PERIOD = /^\d{4}-(0[1-9]|1[0-2])$/;

function invalid(message: string, details: Record<string, unknown>): AppError {
  return new AppError('BILLING_PARTNER_INVALID', message, details);
}

/** Validates a markup: whole basis points 0…100,000 and whole micros 0…10⁹ per unit. */
export function parseMarkup(bps: unknown, micros: unknown): Markup {
  const b = typeof bps === 'string' && /^\d+$/.test(bps) ? Number(bps) : bps;
  if (typeof b !== 'number' || !Number.isInteger(b) || b < 0 || b > MAX_MARKUP_BPS) {
    throw invalid(`A markup is a whole number of basis points from 0 to ${MAX_MARKUP_BPS}.`, {
      field: 'markup_bps',
    });
  }
  let m: bigint | undefined;
  if (micros === undefined || micros === null) m = 0n;
  else if (typeof micros === 'bigint') m = micros;
  else if (typeof micros === 'number' && Number.isSafeInteger(micros)) m = BigInt(micros);
  else if (typeof micros === 'string' && /^\d{1,19}$/.test(micros)) m = BigInt(micros);
  if (m === undefined || m < 0n || m > MAX_MARKUP_MICROS) {
    throw invalid(`A fixed markup is a whole number of micros from 0 to ${MAX_MARKUP_MICROS} per unit.`, {
      field: 'markup_micros',
    });
  }
  return { markupBps: b, markupMicros: m };
}

function parseCategory(category: string): BillingCategory {
  if (!(BILLING_CATEGORIES as readonly string[]).includes(category)) {
    throw invalid(`Unknown category "${category}".`, { field: 'category', known: BILLING_CATEGORIES });
  }
  return category as BillingCategory;
}

export function createPartnersService(deps: PartnersServiceDeps) {
  const { db, repo, directory, clock, ids } = deps;
  const recheckMs = deps.recheckMs ?? 1000;
  let snapshot: Snapshot | undefined;
  // Bumped by every local write: a load that started before it is not kept.
  let generation = 0;

  async function load(tx: Executor): Promise<Snapshot> {
    const started = generation;
    // The revision first: a write committed while the rest is read shows as a newer revision.
    const revision = await repo.revision(tx);
    const [partners, markups, clients] = await Promise.all([
      repo.all(tx),
      repo.markups(tx),
      repo.clients(tx),
    ]);
    const byPartner = new Map<string, Map<string, MarkupFor>>();
    for (const p of partners) {
      byPartner.set(
        p.id,
        new Map([['', { partnerId: p.id, markupBps: p.markup_bps, markupMicros: BigInt(p.markup_micros) }]]),
      );
    }
    for (const m of markups) {
      byPartner.get(m.partner_id)?.set(m.category, {
        partnerId: m.partner_id,
        markupBps: m.markup_bps,
        markupMicros: BigInt(m.markup_micros),
      });
    }
    const next: Snapshot = {
      revision,
      checkedAt: clock.now(),
      clientPartner: new Map(clients.map((c) => [c.business_id, c.partner_id])),
      markups: byPartner,
    };
    if (started === generation) snapshot = next;
    return next;
  }

  async function current(tx: Executor): Promise<Snapshot> {
    const snap = snapshot;
    if (!snap) return load(tx);
    const now = clock.now();
    if (now - snap.checkedAt < recheckMs) return snap;
    // One caller checks; the others keep answering from the snapshot meanwhile.
    snap.checkedAt = now;
    return (await repo.revision(tx)) === snap.revision ? snap : load(tx);
  }

  /** Runs an operator write, counts it for other processes and drops this process's snapshot. */
  async function write<T>(fn: (tx: Executor) => Promise<T>): Promise<T> {
    const out = await db.kysely.transaction().execute(async (tx) => {
      const result = await fn(tx);
      await repo.bumpRevision(tx);
      return result;
    });
    generation++;
    snapshot = undefined;
    return out;
  }

  async function requirePartner(id: string, tx: Executor): Promise<PartnerRow> {
    const row = await repo.find(id, tx);
    if (!row) throw new AppError('BILLING_PARTNER_NOT_FOUND', `No partner ${id}.`);
    return row;
  }

  async function view(id: string, tx: Executor = db.kysely): Promise<PartnerView> {
    const row = await requirePartner(id, tx);
    const [markups, clients, members] = await Promise.all([
      repo.markups(tx, id),
      repo.clientViews(id, tx),
      repo.members(id, tx),
    ]);
    return {
      partner_id: row.id,
      name: row.name,
      markup_bps: row.markup_bps,
      markup_micros: String(row.markup_micros),
      markups: markups.map((m) => ({
        category: m.category,
        markup_bps: m.markup_bps,
        markup_micros: String(m.markup_micros),
      })),
      clients: clients.map((c) => ({
        business_id: c.business_id,
        name: c.name ?? null,
        since: new Date(Number(c.since)).toISOString(),
      })),
      members: members.map((m) => ({
        account_id: m.account_id,
        phone: m.phone ?? null,
        name: m.display_name ?? null,
        role: m.role,
      })),
      created_at: new Date(Number(row.created_at)).toISOString(),
    };
  }

  /** Members (any role) pass; everyone else learns nothing, not even that the partner exists. */
  async function requireMember(actor: DeviceActor, partnerId: string, tx: Executor = db.kysely) {
    const role = await repo.memberRole(partnerId, actor.accountId, tx);
    if (!role)
      throw new AppError('BILLING_PARTNER_NOT_FOUND', `No partner ${partnerId} you are a member of.`);
    return role;
  }

  return {
    /**
     * The partner managing `businessId` and its markup for `category` (the per-category
     * override, else the partner's default), or null: no partner, no markup.
     */
    async markupFor(tx: Executor, businessId: string, category: string | null): Promise<MarkupFor | null> {
      const snap = await current(tx);
      const partnerId = snap.clientPartner.get(businessId);
      if (partnerId === undefined) return null;
      const markups = snap.markups.get(partnerId);
      return (category === null ? undefined : markups?.get(category)) ?? markups?.get('') ?? null;
    },

    // Operator actions.

    async create(input: { name: string; markupBps?: unknown; markupMicros?: unknown }): Promise<PartnerView> {
      const name = input.name.trim();
      if (name.length < 1 || name.length > 100) {
        throw invalid('A partner name is 1 to 100 characters.', { field: 'name' });
      }
      const markup = parseMarkup(input.markupBps ?? 0, input.markupMicros);
      const now = clock.now();
      const id = ids.newId('ptn');
      await write((tx) =>
        repo.insert(tx, {
          id,
          name,
          markup_bps: markup.markupBps,
          markup_micros: Number(markup.markupMicros),
          created_at: now,
          updated_at: now,
        }),
      );
      return view(id);
    },

    async list(): Promise<PartnerView[]> {
      const rows = await repo.all();
      return Promise.all(rows.map((r) => view(r.id)));
    },

    get: (partnerId: string) => view(partnerId),

    /** Sets the default markup, or with `category` that category's override. */
    async setMarkup(partnerId: string, input: MarkupInput): Promise<PartnerView> {
      const markup = parseMarkup(input.bps, input.micros);
      const category = input.category === undefined ? undefined : parseCategory(input.category);
      const now = clock.now();
      await write(async (tx) => {
        await requirePartner(partnerId, tx);
        if (category === undefined) {
          await repo.setDefaultMarkup(
            tx,
            partnerId,
            { markup_bps: markup.markupBps, markup_micros: markup.markupMicros },
            now,
          );
        } else {
          await repo.upsertMarkup(tx, {
            partner_id: partnerId,
            category,
            markup_bps: markup.markupBps,
            markup_micros: Number(markup.markupMicros),
            updated_at: now,
          });
        }
      });
      return view(partnerId);
    },

    /** Puts a business under a partner (moving it from another one, if any). */
    async attach(partnerId: string, businessId: string): Promise<PartnerView> {
      await write(async (tx) => {
        await requirePartner(partnerId, tx);
        if (!(await directory.find(businessId, tx))) {
          throw invalid(`No business ${businessId}.`, { field: 'business_id' });
        }
        await repo.attach(tx, { business_id: businessId, partner_id: partnerId, since: clock.now() });
      });
      return view(partnerId);
    },

    /** Takes a business from its partner; its past charges keep the partner they were made with. */
    async detach(
      businessId: string,
      partnerId?: string,
    ): Promise<{ business_id: string; partner_id: string }> {
      return write(async (tx) => {
        const client = await repo.clientOf(businessId, tx);
        if (!client || (partnerId !== undefined && client.partner_id !== partnerId)) {
          throw new AppError(
            'BILLING_PARTNER_NOT_FOUND',
            `Business ${businessId} is not a client of ${partnerId ?? 'any partner'}.`,
          );
        }
        await repo.detach(tx, businessId, clock.now());
        return { business_id: businessId, partner_id: client.partner_id };
      });
    },

    /** Adds a person (E.164 phone or account id) as a member, or changes their role. */
    async addMember(partnerId: string, key: string, role: string = 'viewer'): Promise<PartnerView> {
      if (role !== 'admin' && role !== 'viewer') {
        throw invalid('A member’s role is admin or viewer.', { field: 'role' });
      }
      await write(async (tx) => {
        await requirePartner(partnerId, tx);
        const person = await directory.accountByKey(
          key.startsWith('acc_') ? key : (normalizePhone(key) ?? key),
          tx,
        );
        if (!person || person.business_id)
          throw invalid(`No person's account for "${key}".`, { field: 'member' });
        await repo.upsertMember(tx, {
          partner_id: partnerId,
          account_id: person.id,
          role,
          created_at: clock.now(),
        });
      });
      return view(partnerId);
    },

    async removeMember(partnerId: string, accountId: string): Promise<PartnerView> {
      await write(async (tx) => {
        await requirePartner(partnerId, tx);
        if ((await repo.removeMember(tx, partnerId, accountId)) === 0) {
          throw invalid(`${accountId} is not a member of ${partnerId}.`, { field: 'member' });
        }
      });
      return view(partnerId);
    },

    // What members see.

    /** The partners the actor is a member of. */
    async mine(actor: DeviceActor) {
      const rows = await repo.partnersOfMember(actor.accountId);
      return rows.map((r) => ({ partner_id: r.id, name: r.name, role: r.role }));
    },

    /** The partner and its clients; members list only for the partner's admins. */
    async forMember(actor: DeviceActor, partnerId: string): Promise<PartnerView & { role: PartnerRole }> {
      const role = await requireMember(actor, partnerId);
      const v = await view(partnerId);
      return { ...v, members: role === 'admin' ? v.members : [], role };
    },

    /**
     * A month's usage of the partner's clients, from the charges the partner marked up (a
     * business's charges belong to the partner it had when they were made): per client ×
     * category × currency, messages and billable messages, the operator's amount and the
     * partner's markup, each rounded once from micros (half to even).
     */
    async usage(actor: DeviceActor, partnerId: string, period: string): Promise<PartnerUsageView> {
      await requireMember(actor, partnerId);
      if (!PERIOD.test(period)) {
        throw new AppError('VALIDATION_FAILED', 'A period is a month, YYYY-MM.', {
          issues: [{ path: 'period', message: 'expected YYYY-MM' }],
        });
      }
      const [rows, clients] = await Promise.all([repo.usage(partnerId, period), repo.clientViews(partnerId)]);
      const names = new Map(clients.map((c) => [c.business_id, c.name ?? null]));
      const totals = new Map<
        string,
        { count: number; billable: number; operator: bigint; partner: bigint }
      >();
      const lines: PartnerUsageLine[] = rows.map((r) => {
        const operator = BigInt(r.operator_micros ?? 0);
        const partner = BigInt(r.partner_micros ?? 0);
        const count = Number(r.count ?? 0);
        const billable = Number(r.billable ?? 0);
        const t = totals.get(r.currency) ?? { count: 0, billable: 0, operator: 0n, partner: 0n };
        t.count += count;
        t.billable += billable;
        t.operator += operator;
        t.partner += partner;
        totals.set(r.currency, t);
        const businessId = r.business_id ?? '';
        return {
          business_id: businessId,
          business_name: names.get(businessId) ?? null,
          category: r.category,
          currency: r.currency,
          count,
          billable,
          operator_minor: microsToMinor(operator, r.currency, 'half_even').toString(),
          partner_minor: microsToMinor(partner, r.currency, 'half_even').toString(),
          operator_micros: operator.toString(),
          partner_micros: partner.toString(),
        };
      });
      return {
        partner_id: partnerId,
        period,
        lines,
        totals: [...totals].map(([currency, t]) => ({
          currency,
          count: t.count,
          billable: t.billable,
          operator_minor: microsToMinor(t.operator, currency, 'half_even').toString(),
          partner_minor: microsToMinor(t.partner, currency, 'half_even').toString(),
          operator_micros: t.operator.toString(),
          partner_micros: t.partner.toString(),
        })),
      };
    },
  };
}

export type PartnersService = ReturnType<typeof createPartnersService>;
