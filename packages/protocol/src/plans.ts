/** Business plans: operator-editable limits and features (GET /api/v1/plans). */
export const PLAN_LIMITS = ['agents', 'broadcast_size', 'keyword_rules', 'labels', 'short_links'] as const;
export type PlanLimit = (typeof PLAN_LIMITS)[number];
export const PLAN_FEATURES = ['custom_link_code', 'verified_badge'] as const;
export type PlanFeature = (typeof PLAN_FEATURES)[number];

export interface PlanView {
  plan_id: string;
  name: string;
  /** Monthly price in minor units of `currency` (cents for USD). */
  price_minor: number;
  currency: string;
  limits: Record<PlanLimit, number>;
  features: Record<PlanFeature, boolean>;
}
