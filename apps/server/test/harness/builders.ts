/**
 * Builds real services over a test database with hand-driven time and captured codes.
 * Each test makes its own rows through `newPerson()`.
 */
import { AppError } from '../../src/errors.js';
import { createAccountsModule } from '../../src/modules/accounts/index.js';
import { createBusinessModule } from '../../src/modules/business/index.js';
import { createChatsModule } from '../../src/modules/chats/index.js';
import { createManageRepo, createManageService } from '../../src/modules/cloud-api/index.js';
import { createContactsModule } from '../../src/modules/contacts/index.js';
import {
  createDeliveryModule,
  createEventWriter,
  createWorkerCommitExecutor,
  type DeviceEvent,
} from '../../src/modules/delivery/index.js';
import { createDisappearingModule } from '../../src/modules/disappearing/index.js';
import { createGroupsModule } from '../../src/modules/groups/index.js';
import { createLabelsModule } from '../../src/modules/labels/index.js';
import { createLinksModule } from '../../src/modules/links/index.js';
import { createMediaModule } from '../../src/modules/media/index.js';
import { createPlansModule } from '../../src/modules/plans/index.js';
import { createReceiptsModule } from '../../src/modules/receipts/index.js';
import { createMemoryBus } from '../../src/platform/bus.js';
import { createManualClock } from '../../src/platform/clock.js';
import { createIds } from '../../src/platform/ids.js';
import type { Logger } from '../../src/platform/logger.js';
import { createLogger } from '../../src/platform/logger.js';
import { createPresenceRegistry } from '../../src/platform/presence.js';
import { createMemoryRateLimiter } from '../../src/platform/rate-limit.js';
import type { CodeSender } from '../../src/platform/sms.js';
import type { StorageContext } from './storage.js';

let phoneCounter = 0;
/** A fresh, possible E.164 number in the fictional +1 555 range, unique per process. */
export function newPhone(): string {
  phoneCounter++;
  const tail = String((process.pid * 1000 + phoneCounter) % 10_000_000).padStart(7, '0');
  return `+1555${tail}`;
}

const open: { close(): Promise<void> }[] = [];

/** The public base URL short links get in test contexts. */
export const TEST_PUBLIC_URL = 'https://parley.test';

/** Closes every context's delivery service (and writer thread); call in afterEach. */
export async function closeTestContexts(): Promise<void> {
  for (const c of open.splice(0)) await c.close();
}

export interface TestContextOptions {
  /** SQLite only: commit through the writer thread, as the server does. */
  writerThread?: boolean;
  /** Billing's check before each send (the consumer plan), wired as the server wires it. */
  sendGate?: (actor: import('../../src/modules/accounts/index.js').DeviceActor) => Promise<void>;
}

export function createTestContext(storage: StorageContext, options: TestContextOptions = {}) {
  const clock = createManualClock(Date.now());
  const logger: Logger = createLogger('silent');
  const bus = createMemoryBus((e) => {
    throw e;
  });
  const ids = createIds(clock);
  const codes: { phone: string; code: string }[] = [];
  const sms = { down: false };
  const codeSender: CodeSender = {
    async sendCode(phone, code) {
      if (sms.down) throw new AppError('SMS_DELIVERY_FAILED', 'The SMS gateway answered 503.');
      codes.push({ phone, code });
    },
  };
  const presence = createPresenceRegistry(bus);
  const eventWriter = createEventWriter({ caps: storage.db.caps, bus, clock, ids });
  const chats = createChatsModule({ db: storage.db, clock, events: eventWriter });
  const contacts = createContactsModule({
    db: storage.db,
    clock,
    ids,
    rateLimiter: createMemoryRateLimiter,
    presence,
    settingsSync: chats.service,
  });
  const media = createMediaModule({
    canSeePhoto: (viewer, owner) => contacts.service.canSee(viewer, owner, 'photo'),
    db: storage.db,
    dataDir: storage.dataDir,
    clock,
    ids,
    logger,
  });
  const requireOwnImage = (accountId: string, mediaId: string) =>
    media.service.requireOwnImage(accountId, mediaId);
  const accounts = createAccountsModule({
    businessOf: (accountId) => business.service.publicOf(accountId),
    requireOwnImage,
    canSee: (viewer, owner, field) => contacts.service.canSee(viewer, owner, field),
    db: storage.db,
    clock,
    ids,
    bus,
    codeSender,
    rateLimiter: createMemoryRateLimiter,
    otpKey: 'test-otp-key-that-is-long-enough-0123456789',
    logger,
    settingsSync: chats.service,
  });
  const executor = options.writerThread
    ? createWorkerCommitExecutor({ dataDir: storage.dataDir, sqliteSync: 'normal' }, logger)
    : undefined;
  const delivery = createDeliveryModule({
    db: storage.db,
    clock,
    ids,
    bus,
    logger,
    executor,
    sendGate: options.sendGate,
  });
  open.push(delivery.service);
  const groups = createGroupsModule({ db: storage.db, clock, ids, events: eventWriter, requireOwnImage });
  const receipts = createReceiptsModule({ db: storage.db, clock, events: eventWriter });
  const disappearing = createDisappearingModule({
    db: storage.db,
    clock,
    events: eventWriter,
    groups: groups.service,
  });
  const plans = createPlansModule({ db: storage.db, clock });
  const labels = createLabelsModule({
    db: storage.db,
    business: { requireAgent: (...a) => business.service.requireAgent(...a) },
    inbox: {
      agentEvent: (...a) => business.inbox.agentEvent(...a),
      get: (...a) => business.inbox.get(...a),
    },
    agentDevices: (businessId, tx) => business.repo.agentDevices(businessId, tx),
    events: eventWriter,
    plans: plans.service,
    clock,
    ids,
  });
  const links = createLinksModule({
    db: storage.db,
    business: {
      requireAgent: (...a) => business.service.requireAgent(...a),
      requireManager: (...a) => business.service.requireManager(...a),
    },
    businessRepo: {
      numbers: (...a) => business.repo.numbers(...a),
      numberById: (...a) => business.repo.numberById(...a),
      find: (...a) => business.repo.find(...a),
    },
    plans: plans.service,
    publicUrl: () => TEST_PUBLIC_URL,
    clock,
    ids,
  });
  const business = createBusinessModule({
    labels: labels.port,
    entryPointOf: links.entryPointOf,
    plans: plans.service,
    db: storage.db,
    accounts: accounts.service,
    delivery: delivery.service,
    events: eventWriter,
    bus,
    clock,
    ids,
    logger,
    requireOwnImage,
  });
  const manage = createManageService({
    db: storage.db,
    repo: createManageRepo(storage.db.kysely),
    businessRepo: business.repo,
    business: business.service,
    contacts: contacts.service,
    links: links.service,
    clock,
  });
  // Stopped before delivery closes: its pages in hand still send their replies.
  open.unshift({ close: () => business.endpoint.stop() });
  const events: { channel: string; event: DeviceEvent }[] = [];

  return {
    clock,
    ids,
    bus,
    codes,
    /** Set `sms.down = true` to make the SMS gateway fail. */
    sms,
    accounts: accounts.service,
    delivery: delivery.service,
    groups: groups.service,
    contacts: contacts.service,
    receipts: receipts.service,
    disappearing: disappearing.service,
    business: business.service,
    plans: plans.service,
    inbox: business.inbox,
    automations: business.automations,
    stats: business.stats,
    broadcasts: business.broadcasts,
    labels: labels.service,
    links: links.service,
    /** Business Messaging API access tokens, and its per-number management. */
    tokens: business.tokens,
    manage,
    businessRepo: business.repo,
    /** The hosted endpoint of business numbers: `start()` it in tests that message a business. */
    hostedEndpoint: business.endpoint,
    media: media.service,
    mediaStore: media.store,
    chats: chats.service,
    presence,
    events,
    /** Records every event published on a device's channel. */
    watchDevice(deviceId: string) {
      return bus.subscribe(`device:${deviceId}`, (event) =>
        events.push({ channel: `device:${deviceId}`, event: event as DeviceEvent }),
      );
    },
    /** Links a companion device to the person's account the way an app does (code from the primary). */
    async linkCompanion(
      primary: { accountId: string; deviceId: string; phone: string; role: 'primary' },
      name = 'Laptop',
    ) {
      const { code } = await accounts.service.createLinkCode(primary);
      const linked = await accounts.service.linkDevice({ ip: '192.0.2.200' }, { code, device_name: name });
      const actor = {
        accountId: linked.account_id,
        deviceId: linked.device_id,
        phone: primary.phone,
        role: 'companion' as const,
      };
      return { ...linked, actor };
    },
    async newPerson(name = 'Person') {
      const phone = newPhone();
      const created = await accounts.service.createAccount({ phone, name });
      const actor = {
        accountId: created.account_id,
        deviceId: created.device_id,
        phone,
        role: 'primary' as const,
      };
      return { ...created, phone, actor };
    },
  };
}

export type TestContext = ReturnType<typeof createTestContext>;
