/** Pure rules of privacy settings. */
import type { Visibility } from '../../platform/schema.js';

export const visibleTo = (setting: Visibility, viewerIsContact: boolean): boolean =>
  setting === 'everyone' || (setting === 'contacts' && viewerIsContact);
