/**
 * One migration per target database at a time (node-pg-migrate style): a session advisory lock,
 * taken with pg_try_advisory_lock so a second run fails fast with LOCK_HELD instead of waiting.
 */
import type { Client } from "pg";
import { MigrationError } from "./errors";
import { connect, type TargetRef } from "./pg";
import { redactUrl } from "./url";

/** Arbitrary but fixed: "armp" in ASCII. Shared by every armp-migrate process. */
export const LOCK_KEY = 0x61726d70;

export async function acquireLock(target: TargetRef): Promise<{ client: Client; release: () => Promise<void> }> {
  const client = await connect(target, "lock");
  const r = await client.query<{ ok: boolean }>("SELECT pg_try_advisory_lock($1) AS ok", [LOCK_KEY]);
  if (!r.rows[0].ok) {
    await client.end().catch(() => undefined);
    throw new MigrationError("LOCK_HELD", `Another migration is running against ${redactUrl(target.url)} (advisory lock ${LOCK_KEY} is held). Wait for it to finish, or find it with SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objid = ${LOCK_KEY}.`, { step: "lock", lockKey: LOCK_KEY });
  }
  return {
    client,
    release: async () => {
      await client.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY]).catch(() => undefined);
      await client.end().catch(() => undefined);
    },
  };
}
