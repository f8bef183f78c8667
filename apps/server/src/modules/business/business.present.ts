/** Row to wire shape for businesses. */
import type { AgentView, BusinessProfile, BusinessPublicView, BusinessView } from '@parley/protocol';
import type { AgentRole } from '../../platform/schema.js';
import type { AgentRow, BusinessRow, NumberRow } from './business.repo.js';

export const EMPTY_PROFILE: BusinessProfile = {
  about: '',
  description: '',
  address: '',
  email: '',
  websites: [],
  vertical: 'UNDEFINED',
  hours: null,
  photo: null,
};

export function parseProfile(json: string): BusinessProfile {
  return { ...EMPTY_PROFILE, ...(JSON.parse(json) as Partial<BusinessProfile>) };
}

export function presentBusiness(row: BusinessRow, numbers: NumberRow[], role: AgentRole): BusinessView {
  return {
    business_id: row.id,
    waba_id: row.waba_id,
    name: row.name,
    verified: row.name_verified === 1,
    profile: parseProfile(row.profile),
    plan: row.plan_id,
    retention_days: row.retention_days,
    numbers: numbers.map((n) => ({
      phone_number_id: n.phone_number_id,
      phone: n.phone,
      account_id: n.account_id,
    })),
    role,
    created_at: new Date(row.created_at).toISOString(),
  };
}

export function presentPublic(row: BusinessRow): BusinessPublicView {
  return {
    business_id: row.id,
    name: row.name,
    verified: row.name_verified === 1,
    hosted: true,
    profile: parseProfile(row.profile),
  };
}

export function presentAgent(row: AgentRow): AgentView {
  return {
    account_id: row.account_id,
    phone: row.phone,
    display_name: row.display_name,
    role: row.role,
    added_at: new Date(row.created_at).toISOString(),
  };
}
