/** What the Django corpus prints, and the row counts `armp-migrate run` must report for it. */
import type { Attempts, Rows } from "./corpus";

export type DjangoCreated = { read: Rows; queries: Attempts; gap_queries: Attempts };
export type DjangoReadBack = DjangoCreated & { writes: Attempts; gap_writes: Attempts };

export const DJANGO_TABLE_ROWS = {
  auth_group: 1,
  auth_group_permissions: 2,
  auth_permission: 44,
  auth_user: 2,
  auth_user_groups: 1,
  auth_user_user_permissions: 1,
  django_admin_log: 1,
  django_content_type: 11,
  django_migrations: 19,
  django_session: 1,
  shop_author: 2,
  shop_gap: 3,
  shop_item: 3,
  shop_item_tags: 6,
  shop_profile: 1,
  shop_tag: 3,
};
