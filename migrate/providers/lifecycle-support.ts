/**
 * Pieces every provider lifecycle shares: reading the host's raw property bags into typed
 * inputs, validating them in check() without touching a database, naming resources, and running
 * engine calls so that nothing they throw can carry the target URL.
 */
import { randomUUID } from "crypto";
import type { TargetRef } from "../engine";
import { redactError } from "./target";
import { containsUnknown, reveal, withoutProviderKey } from "./wire-values";

export interface CheckFailure {
  readonly property: string;
  readonly reason: string;
}

/** Typed view of a raw bag: `__provider` dropped and secret envelopes removed. */
export function readProps<T>(raw: unknown): T {
  return reveal<T>(withoutProviderKey((raw ?? {}) as Record<string, unknown>));
}

export function targetOf(p: { targetUrl: string; targetSchema: string }): TargetRef {
  return { url: p.targetUrl, schema: p.targetSchema };
}

/** A fresh id per create: a replacement gets a new id, which dependents watch (`schemaId`). */
export function newId(kind: string): string {
  return `${kind}-${randomUUID()}`;
}

/** Every URL that appears anywhere in the given bags, for scrubbing error text. */
export function urlsOf(...bags: unknown[]): string[] {
  const urls: string[] = [];
  for (const b of bags) {
    const u = (readProps<{ targetUrl?: unknown }>(b)).targetUrl;
    if (typeof u === "string") urls.push(u);
  }
  return urls;
}

/**
 * Runs `fn`; anything it throws comes out as a MigrationError with the URLs scrubbed and the
 * stable code leading the message. The provider host forwards only `message` to the engine, so
 * without the prefix `pulumi up` would never show the code (e.g. VERIFY_MISMATCH) to grep for.
 */
export async function guarded<T>(step: string, urls: readonly string[], fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const out = redactError(e, urls, step);
    const prefix = `${out.code}: `;
    if (!out.message.startsWith(prefix)) out.message = prefix + out.message;
    throw out;
  }
}

type Kind = "string" | "number" | "boolean" | "object" | "array";

function kindOf(v: unknown): Kind | "null" | "undefined" {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v as Kind | "undefined";
}

function article(kind: string): string {
  return /^[aeiou]/.test(kind) ? `an ${kind}` : `a ${kind}`;
}

/**
 * check(): the shape of the inputs, never their meaning against a database (check runs during
 * preview). Unknown values pass: they are checked again when known. Reasons never quote values,
 * because the value may be the secret URL.
 */
export function checkShape(news: unknown, shape: Record<string, { kind: Kind; optional?: boolean }>): CheckFailure[] {
  const props = readProps<Record<string, unknown>>(news);
  const failures: CheckFailure[] = [];
  for (const [property, spec] of Object.entries(shape)) {
    const v = props[property];
    if (containsUnknown(v)) continue;
    if (v === undefined || v === null) {
      if (!spec.optional) failures.push({ property, reason: `${property} is required` });
      continue;
    }
    if (kindOf(v) !== spec.kind) failures.push({ property, reason: `${property} must be ${article(spec.kind)}, got ${article(kindOf(v))}` });
  }
  const url = props.targetUrl;
  if (typeof url === "string" && !containsUnknown(url)) {
    let protocol = "";
    try {
      protocol = new URL(url).protocol;
    } catch {
      failures.push({ property: "targetUrl", reason: "targetUrl is not a URL: pass a postgres://user:password@host:port/database URL" });
    }
    if (protocol && protocol !== "postgres:" && protocol !== "postgresql:") {
      failures.push({ property: "targetUrl", reason: `targetUrl must use postgres:// or postgresql://, not ${protocol}//` });
    }
  }
  const jobs = props.jobs;
  if (typeof jobs === "number" && (!Number.isInteger(jobs) || jobs < 1)) {
    failures.push({ property: "jobs", reason: `jobs must be a whole number of at least 1, got ${jobs}` });
  }
  return failures;
}
