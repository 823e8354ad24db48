/**
 * The one place connection URLs are made safe to show. Every message, error, log line and provider
 * output that may mention a URL goes through these two functions, with one mask ("***"), so an
 * operator sees the same redacted form from the CLI, pgBouncer's CLI and `pulumi up`.
 */

const MASK = "***";

/** The URL with its password replaced by the mask: user, host, port, database and parameters kept. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = MASK;
    return u.toString();
  } catch {
    // Not a URL we can parse: hide everything between "://" and "@" rather than risk a leak.
    return url.replace(/\/\/[^@/]*@/, `//${MASK}@`);
  }
}

/**
 * `text` with every spelling of each URL's secret removed: the URL itself (as written and as
 * `URL` re-serialises it) becomes its redacted form, the password (percent-encoded and decoded)
 * becomes the mask. Longest spelling first, so a URL is replaced before the password inside it.
 * An unparsable URL is hidden whole: it is the only thing known to be secret.
 */
export function scrubSecrets(text: string, urls: readonly string[]): string {
  const swaps = new Map<string, string>();
  for (const url of urls) {
    if (!url) continue;
    let u: URL | undefined;
    try {
      u = new URL(url);
    } catch {
      swaps.set(url, MASK);
      continue;
    }
    if (!u.password) continue;
    const shown = redactUrl(url);
    swaps.set(url, shown);
    swaps.set(u.toString(), shown);
    swaps.set(u.password, MASK);
    try {
      swaps.set(decodeURIComponent(u.password), MASK);
    } catch {
      // A malformed escape: the encoded spelling above is the one a driver would echo.
    }
  }
  let out = text;
  for (const [secret, shown] of [...swaps].sort((a, b) => b[0].length - a[0].length)) out = out.split(secret).join(shown);
  return out;
}
