/** Explicit allowlists from a template row to what the Graph API and the operator see. */
import type { TemplateRow } from './templates.repo.js';
import type { TemplateComponent } from './templates.validate.js';

/** The fields `GET /{template-id}` and `GET /{waba-id}/message_templates` can show. */
export const TEMPLATE_FIELDS = [
  'id',
  'name',
  'language',
  'status',
  'category',
  'components',
  'parameter_format',
  'previous_category',
  'rejected_reason',
  'quality_score',
] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];

/** A template as the Cloud API shows it; `fields` narrows it (the id always stays). */
export function presentTemplate(
  row: TemplateRow,
  fields?: readonly TemplateField[],
): Record<string, unknown> {
  const full: Record<string, unknown> = {
    id: row.id,
    name: row.name,
    language: row.language,
    status: row.status,
    category: row.category,
    components: JSON.parse(row.components) as TemplateComponent[],
    parameter_format: row.parameter_format,
    ...(row.previous_category ? { previous_category: row.previous_category } : {}),
    ...(row.status === 'REJECTED' ? { rejected_reason: row.rejected_reason ?? 'NONE' } : {}),
    quality_score: { score: row.quality_score },
  };
  if (!fields) return full;
  return Object.fromEntries(
    Object.entries(full).filter(([k]) => k === 'id' || (fields as readonly string[]).includes(k)),
  );
}

/** A template in the operator's queue: which business, and its review state. */
export function presentForOperator(row: TemplateRow) {
  return {
    id: row.id,
    business_id: row.business_id,
    name: row.name,
    language: row.language,
    category: row.category,
    status: row.status,
    ...(row.previous_category ? { previous_category: row.previous_category } : {}),
    ...(row.rejected_reason ? { rejected_reason: row.rejected_reason } : {}),
    ...(row.rejection_info ? { rejection_info: JSON.parse(row.rejection_info) as unknown } : {}),
    quality_score: row.quality_score,
    ...(row.paused_until ? { paused_until: new Date(row.paused_until).toISOString() } : {}),
    components: JSON.parse(row.components) as TemplateComponent[],
    created_at: new Date(row.created_at).toISOString(),
  };
}

export type OperatorTemplateView = ReturnType<typeof presentForOperator>;
