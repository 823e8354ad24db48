/** Connection URLs carry passwords; anything printed or put in an error goes through redactUrl. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    // Not a URL we can parse: hide everything between "://" and "@" rather than risk a leak.
    return url.replace(/\/\/[^@/]*@/, "//***@");
  }
}

/** Removes every occurrence of the password of `url` from free text (e.g. a driver message). */
export function scrubPassword(text: string, url: string): string {
  try {
    const pw = decodeURIComponent(new URL(url).password);
    if (pw) return text.split(pw).join("***");
  } catch {
    /* unparsable URL: nothing to scrub by value */
  }
  return text;
}
