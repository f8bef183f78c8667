/** Who may do what in a business: owners and admins manage it, every agent works the inbox. */
import type { AgentRole } from '../../platform/schema.js';

export const canManage = (role: AgentRole): boolean => role === 'owner' || role === 'admin';
/** Only an owner makes or removes owners and admins. */
export const canGrant = (role: AgentRole, granted: AgentRole): boolean =>
  role === 'owner' || (role === 'admin' && granted === 'agent');
