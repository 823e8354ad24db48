import { asMigrationError, MigrationError, type ErrorMeta } from "../engine/errors";

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

/** Every spelling of the URL's secret parts that could end up in a message. */
function secretSpellings(url: string): string[] {
  const out = new Set<string>([url]);
  try {
    const u = new URL(url);
    if (u.password) {
      out.add(u.password);
      out.add(decodeURIComponent(u.password));
    }
  } catch {
    // Not a URL: the whole string is the only thing we know to hide.
  }
  // Longest first so a URL is replaced before the password inside it.
  return [...out].filter((s) => s.length >= 3).sort((a, b) => b.length - a.length);
}

/** Replaces the URL and its password wherever they occur in `text`. */
export function scrub(text: string, urls: readonly string[]): string {
  let result = text;
  for (const url of urls) {
    for (const s of secretSpellings(url)) result = result.split(s).join("[redacted]");
  }
  return result;
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
  const meta = JSON.parse(scrub(JSON.stringify(m.meta), urls)) as ErrorMeta;
  const out = new MigrationError(m.code, scrub(m.message, urls), meta, m.cause);
  out.stack = scrub(m.stack ?? `${m.name}: ${m.message}`, urls);
  return out;
}
