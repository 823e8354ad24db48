/**
 * The values the Pulumi engine puts on the wire to a dynamic provider, and helpers to read them.
 *
 * The host (`@pulumi/pulumi/cmd/dynamic-provider`) hands provider methods the raw
 * `Struct.toJavaScript()` of each request, so provider code sees exactly these encodings:
 * the unknown sentinel during preview (at any depth) and, when a caller sends secrets,
 * `{ [SECRET_SIG_KEY]: SECRET_SIG, value }` envelopes. Constants are copied from
 * `@pulumi/pulumi/runtime/rpc.js` rather than imported so this module has no runtime
 * dependency on the SDK (it is loaded inside the provider host from dist/).
 */

/** `rpc.unknownValue`: an input whose value is not known until apply (preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
/** `rpc.specialSigKey`: the key that marks a special (secret, asset, …) value. */
export const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
/** `rpc.specialSecretSig`: the signature of a secret envelope. */
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** The property in which the host stores the serialized provider; never part of our inputs. */
export const PROVIDER_KEY = "__provider";

export interface SecretEnvelope<T> {
  readonly [SECRET_SIG_KEY]: typeof SECRET_SIG;
  readonly value: T;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export function isSecretEnvelope(v: unknown): v is SecretEnvelope<unknown> {
  return isPlainObject(v) && v[SECRET_SIG_KEY] === SECRET_SIG;
}

/** Wraps a value so the engine records it as a secret whatever the caller's options say. */
export function secret<T>(value: T): SecretEnvelope<T> {
  return { [SECRET_SIG_KEY]: SECRET_SIG, value };
}

/** True when the value is, or contains at any depth, the unknown sentinel. */
export function containsUnknown(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (isPlainObject(v)) return Object.values(v).some(containsUnknown);
  return false;
}

/**
 * Removes secret envelopes at any depth. The engine strips them itself for providers that do
 * not accept secrets (the dynamic host answers Configure with acceptSecrets=false), but our own
 * outputs carry envelopes and other callers may send them, so every method reveals first.
 */
export function reveal<T = unknown>(v: unknown): T {
  if (isSecretEnvelope(v)) return reveal<T>(v.value);
  if (Array.isArray(v)) return v.map((x) => reveal(x)) as T;
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = reveal(x);
    return out as T;
  }
  return v as T;
}

/** Drops the host's `__provider` property so it is never copied into outputs or compared. */
export function withoutProviderKey(props: Record<string, unknown>): Record<string, unknown> {
  const { [PROVIDER_KEY]: _ignored, ...rest } = props;
  return rest;
}

/** Structural equality that ignores object key order (Struct round-trips do not keep it). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((x, i) => sameValue(x, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameValue(a[k], b[k]));
  }
  return false;
}
