/** The migration stream, in order. Append only: a released migration is never edited. */
import type { MigrationModule } from '../platform/migrate.js';
import * as m0001 from './0001_init.js';
import * as m0002 from './0002_linked_devices.js';
import * as m0003 from './0003_groups.js';
import * as m0004 from './0004_contacts.js';
import * as m0005 from './0005_receipts.js';
import * as m0006 from './0006_message_features.js';
import * as m0007 from './0007_chat_state.js';
import * as m0008 from './0008_media.js';
import * as m0009 from './0009_photos.js';
import * as m0010 from './0010_business.js';
import * as m0011 from './0011_plans.js';
import * as m0012 from './0012_labels_links.js';
import * as m0013 from './0013_broadcasts.js';
import * as m0014 from './0014_automations.js';
import * as m0015 from './0015_broadcast_keys.js';
import * as m0016 from './0016_api_messages.js';
import * as m0017 from './0017_webhooks.js';
import * as m0018 from './0018_templates.js';
import * as m0019 from './0019_graph_media.js';
import * as m0020 from './0020_messaging_limits.js';
import * as m0021 from './0021_api_management.js';
// The ledger (issue 6).
import * as m0022 from './0022_ledger.js';
import * as m0023 from './0023_billing.js';
// rate cards (issue 6)
import * as m0024 from './0024_rate_cards.js';
import * as m0025 from './0025_invoices.js';
// billing: invoices
import * as m0026 from './0026_subscriptions.js';
// Partners (issue 6).
import * as m0027 from './0027_partners.js';

export const migrations: Record<string, MigrationModule> = {
  '0001_init': m0001,
  '0002_linked_devices': m0002,
  '0003_groups': m0003,
  '0004_contacts': m0004,
  '0005_receipts': m0005,
  '0006_message_features': m0006,
  '0007_chat_state': m0007,
  '0008_media': m0008,
  '0009_photos': m0009,
  '0010_business': m0010,
  '0011_plans': m0011,
  '0012_labels_links': m0012,
  '0013_broadcasts': m0013,
  '0014_automations': m0014,
  '0015_broadcast_keys': m0015,
  '0016_api_messages': m0016,
  '0017_webhooks': m0017,
  '0018_templates': m0018,
  '0019_graph_media': m0019,
  '0020_messaging_limits': m0020,
  '0021_api_management': m0021,
  '0022_ledger': m0022,
  '0023_billing': m0023,
  // rate cards (issue 6)
  '0024_rate_cards': m0024,
  // billing: invoices
  '0025_invoices': m0025,
  '0026_subscriptions': m0026,
  // Partners (issue 6).
  '0027_partners': m0027,
};
