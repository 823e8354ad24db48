import { asMigrationError, MigrationError, type ErrorMeta } from "../engine/errors";
import { scrubSecrets } from "../engine/url";

/**
 * What the providers need to know about a target URL without ever showing it: which database it
 * names (to decide replace vs update) and how to scrub it out of any text we hand back.
 */

/**
 * The database a URL points at, without credentials: `user@host:port/db?schema`. Rotating the
 * password changes the URL but not the database, so it must not replace the migration.
 */
export function targetIdentity(url: string, schema: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Unparseable URLs are rejected by check(); compare them as opaque but never echo them.
    return `unparseable#${url.length}/${schema}`;
  }
  const port = u.port || "5432";
  return `${decodeURIComponent(u.username)}@${u.hostname}:${port}${u.pathname}?schema=${schema}`;
}

/**
 * The error to throw from a provider method: a MigrationError (non-migration errors become
 * INTERNAL via asMigrationError, keeping `cause`) whose message, stack and meta have the target
 * URL and password scrubbed. The host sends `e.message` to the engine (shown by `pulumi up`) and
 * prints `e.stack` to stderr, so both must be clean even if a driver error quoted the connection
 * string. `cause` keeps the original for in-process debugging; the host never prints it.
 */
export function redactError(err: unknown, urls: readonly string[], step: string): MigrationError {
  const m = asMigrationError(err, step);
  const meta = JSON.parse(scrubSecrets(JSON.stringify(m.meta), urls)) as ErrorMeta;
  const out = new MigrationError(m.code, scrubSecrets(m.message, urls), meta, m.cause);
  out.stack = scrubSecrets(m.stack ?? `${m.name}: ${m.message}`, urls);
  return out;
}
