/** The chats module: per-account chat state, starred messages, settings sync. */
import { createChatsRepo } from './chats.repo.js';
import { type ChatsServiceDeps, createChatsService } from './chats.service.js';

export { chatsRoutes } from './chats.routes.js';
export type { ChatsService, SettingsSync, UpdateChatInput } from './chats.service.js';

export function createChatsModule(deps: Omit<ChatsServiceDeps, 'repo'>) {
  const repo = createChatsRepo(deps.db.kysely);
  return { repo, service: createChatsService({ ...deps, repo }) };
}
