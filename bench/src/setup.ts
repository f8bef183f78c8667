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
