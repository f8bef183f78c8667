/** Creates bench accounts straight through the server's modules, before the server starts. */
import { createModules, openPlatform, parseConfig } from '@parley/server';

export interface BenchDevice {
  phone: string;
  accountId: string;
  deviceId: string;
  token: string;
}

/** Opens the bench's storage with the server's own modules, runs `task`, closes it. */
async function withModules<T>(
  dataDir: string,
  task: (modules: ReturnType<typeof createModules>) => Promise<T>,
) {
  // Setup only: commits need not reach the disk before the next one (the server itself runs
  // with the default, synchronous=FULL).
  const parsed = parseConfig(
    { PARLEY_DATA_DIR: dataDir, PARLEY_LOG_LEVEL: 'warn', PARLEY_SQLITE_SYNC: 'normal' },
    process.cwd(),
  );
  if (!parsed.ok) throw new Error(parsed.problems.join('\n'));
  const platform = await openPlatform(parsed.config, { logDestination: process.stderr });
  try {
    return await task(createModules(platform));
  } finally {
    await platform.close();
  }
}

export async function createAccounts(dataDir: string, count: number): Promise<BenchDevice[]> {
  return withModules(dataDir, async ({ accounts }) => {
    const out: BenchDevice[] = [];
    for (let i = 0; i < count; i++) {
      const phone = `+1555${String(i).padStart(7, '0')}`;
      const created = await accounts.createAccount({ phone, name: `Bench ${i}` });
      out.push({ phone, accountId: created.account_id, deviceId: created.device_id, token: created.token });
    }
    return out;
  });
}

/** Creates a group of the given devices' accounts, the first one its admin (setup, server stopped). */
export async function createGroup(dataDir: string, devices: BenchDevice[]): Promise<string> {
  return withModules(dataDir, async ({ groups }) => {
    const [admin, ...members] = devices;
    if (!admin) throw new Error('a group needs at least one member');
    const group = await groups.create(
      { accountId: admin.accountId, deviceId: admin.deviceId, phone: admin.phone, role: 'primary' },
      { subject: 'Bench group', members: members.map((m) => m.accountId) },
    );
    return group.group_id;
  });
}

/**
 * Creates a business (premium plan) with keyword rules whose last one answers every bench
 * message, and an away message that is always on (setup, server stopped).
 */
export async function createBusiness(
  dataDir: string,
  rules: number,
): Promise<{ businessId: string; phone: string }> {
  return withModules(dataDir, async ({ business, accounts, automations, plans }) => {
    const ownerPhone = '+15559999998';
    const owner = await accounts.createAccount({ phone: ownerPhone, name: 'Bench owner' });
    const actor = {
      accountId: owner.account_id,
      deviceId: owner.device_id,
      phone: ownerPhone,
      role: 'primary' as const,
    };
    const phone = '+15559999999';
    const created = await business.create({ name: 'Bench business', phone, owner: ownerPhone });
    await plans.set('premium', { limits: { keyword_rules: rules + 1 } });
    await business.setPlan(created.business_id, 'premium');
    for (let i = 0; i < rules - 1; i++) {
      await automations.addRule(actor, created.business_id, {
        match: 'word',
        keywords: [`nomatch${i}`, `other${i}`],
        action: { type: 'reply', text: `never ${i}` },
      });
    }
    await automations.addRule(actor, created.business_id, {
      match: 'word',
      keywords: ['price'],
      action: { type: 'reply', text: 'Anvils are $99.' },
    });
    await automations.setSettings(actor, created.business_id, {
      away: { enabled: true, schedule: { mode: 'always' }, text: 'We are away.' },
    });
    return { businessId: created.business_id, phone };
  });
}
