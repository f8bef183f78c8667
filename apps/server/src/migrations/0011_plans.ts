import { type Kysely, sql } from 'kysely';
import type { DbCaps } from '../platform/db.js';

/**
 * Business plans as operator-editable data: a name, a monthly price in minor units of a
 * currency, numeric limits and feature flags (JSON). Seeded with a free and a premium plan;
 * the operator changes them with `parley plan set`. Billing (a later module) charges for them.
 */
export async function up(db: Kysely<unknown>, caps: DbCaps): Promise<void> {
  const strict = <T extends { modifyEnd(s: ReturnType<typeof sql>): T }>(t: T): T =>
    caps.strictTables ? t.modifyEnd(sql`strict`) : t;
  await strict(
    db.schema
      .createTable('plans')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('price_minor', caps.int64, (c) => c.notNull())
      .addColumn('currency', 'text', (c) => c.notNull())
      .addColumn('limits', 'text', (c) => c.notNull())
      .addColumn('features', 'text', (c) => c.notNull())
      // Lower ranks first: the plan a refusal suggests is the lowest-ranked that allows it.
      .addColumn('rank', 'integer', (c) => c.notNull())
      .addColumn('updated_at', caps.int64, (c) => c.notNull()),
  ).execute();
  const now = Date.now();
  const seed = [
    {
      id: 'free',
      name: 'Free',
      price_minor: 0,
      currency: 'USD',
      limits: { agents: 1, broadcast_size: 256, keyword_rules: 5, labels: 20, short_links: 3 },
      features: { custom_link_code: false, verified_badge: false },
      rank: 0,
    },
    {
      id: 'premium',
      name: 'Premium',
      price_minor: 1500,
      currency: 'USD',
      limits: { agents: 10, broadcast_size: 1024, keyword_rules: 50, labels: 100, short_links: 50 },
      features: { custom_link_code: true, verified_badge: true },
      rank: 1,
    },
  ];
  for (const p of seed) {
    await sql`insert into plans (id, name, price_minor, currency, limits, features, rank, updated_at)
      values (${p.id}, ${p.name}, ${p.price_minor}, ${p.currency}, ${JSON.stringify(p.limits)},
        ${JSON.stringify(p.features)}, ${p.rank}, ${now})`.execute(db);
  }
}
