/**
 * Broadcast lists: a business sends one message to many people, each receiving it as an
 * ordinary 1:1 chat with the business number. Only people who opted in may be on a list —
 * they have one of the business's numbers in their contacts, or have messaged the business —
 * and a list holds at most the plan's `broadcast_size` members. Owners and admins manage
 * lists and send; every agent may look at them.
 *
 * Sending, exactly once per member: in one transaction the service checks the list against
 * the plan, drops members who blocked the sending number or are no longer opted in (reported
 * as skipped), creates the missing conversations (`started_via: 'broadcast'`), writes one
 * `business_outbox` row per recipient with the deterministic client id
 * `bcast:<broadcast>:<account>` and records the `broadcasts` row. Only then does it flush the
 * outbox (inbox.service.ts): a crash before or during the flush leaves the rows, the hosted
 * endpoint's sweep sends them later, and the client id makes a resend of a row already sent
 * a no-op. Nothing is sent for a refused request.
 */
import type {
  BroadcastListSummary,
  BroadcastListView,
  BroadcastSkipReason,
  BroadcastView,
} from '@parley/protocol';
import { AppError } from '../../errors.js';
import type { Clock } from '../../platform/clock.js';
import type { Db, Executor } from '../../platform/db.js';
import type { Ids } from '../../platform/ids.js';
import type { DeviceActor } from '../accounts/index.js';
import { normalizePhone } from '../accounts/index.js';
import type { PlansService } from '../plans/index.js';
import { presentBroadcast, presentList, presentListSummary } from './broadcasts.present.js';
import type { BroadcastListRow, BroadcastRow, BroadcastsRepo } from './broadcasts.repo.js';
import type { BusinessRepo } from './business.repo.js';
import type { BusinessService } from './business.service.js';
import type { InboxRepo, OutboxRow } from './inbox.repo.js';
import type { InboxService } from './inbox.service.js';

export const MAX_LIST_NAME = 64;

export interface BroadcastsServiceDeps {
  db: Pick<Db, 'kysely'>;
  repo: BroadcastsRepo;
  businessRepo: Pick<BusinessRepo, 'numbers'>;
  inboxRepo: Pick<InboxRepo, 'conversationOf' | 'insertConversation' | 'insertOutbox'>;
  inbox: Pick<InboxService, 'flush'>;
  business: Pick<BusinessService, 'requireAgent' | 'requireManager'>;
  plans: Pick<PlansService, 'check' | 'lock'>;
  clock: Clock;
  ids: Ids;
}

const encode = (text: string) => Buffer.from(JSON.stringify({ text })).toString('base64');
/** Client ids are at most 64 characters: the ids go in without their prefixes. */
const clientIdPrefix = (broadcastId: string) => `bcast:${broadcastId.slice(4)}:`;

export function createBroadcastsService(deps: BroadcastsServiceDeps) {
  const { db, repo, clock, ids } = deps;

  async function listIn(businessId: string, listId: string, tx: Executor): Promise<BroadcastListRow> {
    const list = await repo.findList(listId, tx);
    if (!list || list.business_id !== businessId) {
      throw new AppError('BROADCAST_LIST_NOT_FOUND', `No broadcast list ${listId} in this business.`);
    }
    return list;
  }

  /** Phones and account ids → person account ids, in order, without repeats. */
  async function resolvePeople(tx: Executor, keys: string[]): Promise<string[]> {
    const byKey = new Map(keys.map((k) => [k, k.startsWith('acc_') ? k : (normalizePhone(k) ?? k)]));
    const wanted = [...new Set(byKey.values())];
    const found = await repo.accounts(
      wanted.filter((k) => k.startsWith('acc_')),
      wanted.filter((k) => k.startsWith('+')),
      tx,
    );
    const people = new Map<string, string>();
    for (const a of found) {
      // Business numbers are never members: a list reaches people.
      if (a.business_id !== null) continue;
      people.set(a.id, a.id);
      people.set(a.phone, a.id);
    }
    const notFound = keys.filter((k) => !people.has(byKey.get(k) ?? k));
    if (notFound.length > 0) {
      throw new AppError('ACCOUNT_NOT_FOUND', `No person's account for ${notFound.join(', ')}.`, {
        not_found: notFound,
      });
    }
    return [...new Set(keys.map((k) => people.get(byKey.get(k) ?? k) ?? k))];
  }

  async function requireOptedIn(tx: Executor, businessId: string, people: string[]): Promise<void> {
    const numbers = await deps.businessRepo.numbers(businessId, tx);
    const optedIn = await repo.optedIn(
      tx,
      businessId,
      numbers.map((n) => n.account_id),
      people,
    );
    const refused = people.filter((p) => !optedIn.has(p));
    if (refused.length > 0) {
      throw new AppError(
        'BROADCAST_RECIPIENT_NOT_OPTED_IN',
        'Only people who have the business in their contacts or have messaged it can be on a broadcast list.',
        { not_opted_in: refused },
      );
    }
  }

  async function view(list: BroadcastListRow, tx: Executor = db.kysely): Promise<BroadcastListView> {
    return presentList(list, await repo.members(list.id, tx));
  }

  function cleanName(name: string): string {
    const trimmed = name.trim();
    if (!trimmed || trimmed.length > MAX_LIST_NAME) {
      throw new AppError('VALIDATION_FAILED', `A list needs a name of 1 to ${MAX_LIST_NAME} characters.`, {
        issues: [{ path: 'name', message: `required, at most ${MAX_LIST_NAME} characters` }],
      });
    }
    return trimmed;
  }

  return {
    async create(
      actor: DeviceActor,
      businessId: string,
      input: { name: string; members: string[] },
    ): Promise<BroadcastListView> {
      const now = clock.now();
      const list: BroadcastListRow = {
        id: ids.newId('bcl'),
        business_id: businessId,
        name: cleanName(input.name),
        created_at: now,
        updated_at: now,
      };
      return db.kysely.transaction().execute(async (tx) => {
        await deps.business.requireManager(actor, businessId, tx);
        const people = await resolvePeople(tx, input.members);
        await requireOptedIn(tx, businessId, people);
        await deps.plans.check(tx, businessId, 'broadcast_size', people.length);
        await repo.insertList(tx, list);
        await repo.addMembers(tx, list.id, people, now);
        return view(list, tx);
      });
    },

    async list(actor: DeviceActor, businessId: string): Promise<BroadcastListSummary[]> {
      await deps.business.requireAgent(actor, businessId);
      const rows = await repo.lists(businessId);
      return rows.map(({ member_count, ...row }) => presentListSummary(row, Number(member_count ?? 0)));
    },

    async get(actor: DeviceActor, businessId: string, listId: string): Promise<BroadcastListView> {
      await deps.business.requireAgent(actor, businessId);
      return view(await listIn(businessId, listId, db.kysely));
    },

    /** Adds members (already present ones are kept as they are); all or nothing. */
    async addMembers(
      actor: DeviceActor,
      businessId: string,
      listId: string,
      members: string[],
    ): Promise<BroadcastListView> {
      return db.kysely.transaction().execute(async (tx) => {
        await deps.business.requireManager(actor, businessId, tx);
        await deps.plans.lock(tx, businessId);
        const list = await listIn(businessId, listId, tx);
        const current = new Set(await repo.memberIds(listId, tx));
        const added = (await resolvePeople(tx, members)).filter((p) => !current.has(p));
        await requireOptedIn(tx, businessId, added);
        await deps.plans.check(tx, businessId, 'broadcast_size', current.size + added.length);
        const now = clock.now();
        await repo.addMembers(tx, listId, added, now);
        if (added.length > 0) await repo.touchList(tx, listId, now);
        return view({ ...list, updated_at: added.length > 0 ? now : list.updated_at }, tx);
      });
    },

    async removeMember(
      actor: DeviceActor,
      businessId: string,
      listId: string,
      member: string,
    ): Promise<BroadcastListView> {
      return db.kysely.transaction().execute(async (tx) => {
        await deps.business.requireManager(actor, businessId, tx);
        const list = await listIn(businessId, listId, tx);
        const [accountId] = await resolvePeople(tx, [member]);
        if (!accountId || !(await repo.removeMember(tx, listId, accountId))) {
          throw new AppError('ACCOUNT_NOT_FOUND', `${member} is not on this list.`, { not_found: [member] });
        }
        const now = clock.now();
        await repo.touchList(tx, listId, now);
        return view({ ...list, updated_at: now }, tx);
      });
    },

    async delete(actor: DeviceActor, businessId: string, listId: string): Promise<void> {
      await db.kysely.transaction().execute(async (tx) => {
        await deps.business.requireManager(actor, businessId, tx);
        await listIn(businessId, listId, tx);
        await repo.deleteList(tx, listId);
      });
    },

    /** Sends `text` to every member as a 1:1 message from the business number (see the header). */
    async send(
      actor: DeviceActor,
      businessId: string,
      listId: string,
      input: { text: string; phoneNumberId?: string | undefined; clientKey?: string | undefined },
    ): Promise<BroadcastView> {
      const text = input.text.trim();
      if (!text) {
        throw new AppError('VALIDATION_FAILED', 'A broadcast needs text.', {
          issues: [{ path: 'text', message: 'required' }],
        });
      }
      const broadcastId = ids.newId('bcm');
      const prefix = clientIdPrefix(broadcastId);
      const now = clock.now();
      const rows: OutboxRow[] = [];
      let repeated: BroadcastRow | undefined;
      const broadcast = await db.kysely.transaction().execute(async (tx) => {
        await deps.business.requireManager(actor, businessId, tx);
        await listIn(businessId, listId, tx);
        // A retry of a send whose answer was lost: answer with the broadcast it made.
        if (input.clientKey !== undefined) {
          repeated = await repo.broadcastByKey(listId, input.clientKey, tx);
          if (repeated) return repeated;
        }
        const numbers = await deps.businessRepo.numbers(businessId, tx);
        const number =
          input.phoneNumberId === undefined
            ? numbers[0]
            : numbers.find((n) => n.phone_number_id === input.phoneNumberId);
        if (!number) {
          throw new AppError('VALIDATION_FAILED', 'The business has no such phone number.', {
            issues: [{ path: 'phone_number_id', message: 'not a number of this business' }],
          });
        }
        const members = await repo.memberIds(listId, tx);
        // The plan may have shrunk since the list was filled: a list over the limit is refused whole.
        await deps.plans.check(tx, businessId, 'broadcast_size', members.length);
        const optedIn = await repo.optedIn(
          tx,
          businessId,
          numbers.map((n) => n.account_id),
          members,
        );
        const blocked = await repo.blockedBy(tx, members, number.account_id);
        const skipped: { account_id: string; reason: BroadcastSkipReason }[] = [];
        for (const person of members) {
          if (blocked.has(person)) {
            skipped.push({ account_id: person, reason: 'blocked' });
            continue;
          }
          if (!optedIn.has(person)) {
            skipped.push({ account_id: person, reason: 'not_opted_in' });
            continue;
          }
          // flush records a sent message in its conversation: there must be one.
          if (!(await deps.inboxRepo.conversationOf(number.phone_number_id, person, tx))) {
            await deps.inboxRepo.insertConversation(tx, {
              id: ids.newId('cnv'),
              business_id: businessId,
              phone_number_id: number.phone_number_id,
              person_account_id: person,
              // Nothing for an agent to do until the person answers; their answer reopens it.
              status: 'closed',
              assignee: null,
              unread: 0,
              started_via: 'broadcast',
              started_ref: broadcastId,
              created_at: now,
              last_message_at: now,
              last_inbound_at: null,
            });
          }
          rows.push({
            client_id: `${prefix}${person.slice(4)}`,
            phone_number_id: number.phone_number_id,
            to_account: person,
            // Not the agent's account: a broadcast is no answer to what the person wrote before
            // (response times count agents' replies only). The sender is in `created_by`.
            author: `broadcast:${broadcastId}`,
            payload: encode(text),
            created_at: now,
          });
        }
        await deps.inboxRepo.insertOutbox(tx, rows);
        const row = {
          id: broadcastId,
          list_id: listId,
          business_id: businessId,
          phone_number_id: number.phone_number_id,
          created_by: actor.accountId,
          text,
          created_at: now,
          recipients: rows.length,
          skipped: JSON.stringify(skipped),
          client_key: input.clientKey ?? null,
        };
        await repo.insertBroadcast(tx, row);
        return row;
      });
      if (repeated) return presentBroadcast(repeated, await repo.pending(clientIdPrefix(repeated.id)));
      const sent = rows.length > 0 ? await deps.inbox.flush(rows) : new Map<string, string>();
      return presentBroadcast(broadcast, rows.length - sent.size);
    },

    /** The list's broadcasts, newest first, with how many of each still wait in the outbox. */
    async history(
      actor: DeviceActor,
      businessId: string,
      listId: string,
      limit = 50,
    ): Promise<BroadcastView[]> {
      await deps.business.requireAgent(actor, businessId);
      await listIn(businessId, listId, db.kysely);
      const rows = await repo.broadcasts(listId, Math.min(limit, 200));
      return Promise.all(
        rows.map(async (r) => presentBroadcast(r, await repo.pending(clientIdPrefix(r.id)))),
      );
    },
  };
}

export type BroadcastsService = ReturnType<typeof createBroadcastsService>;
