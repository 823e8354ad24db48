/**
 * What the `EnvFile` dynamic provider does to the file system. Compiled to
 * dist/infra/providers/envfile-impl.js and required by the provider methods at deploy time
 * (docs/CONTRACTS.md, "Dynamic provider module loading"). Node built-ins only.
 *
 * The seed's rollback is "point DATABASE_URL back at SQLite": create keeps the app's env file as it
 * was in `<path>.armp-backup` before writing the managed keys, and delete puts those exact bytes
 * back. Values are secrets: no message here ever contains a value.
 *
 * Modes: the env file holds database passwords, so it is written 0600 whatever mode the app's
 * file had (a 0644 original would otherwise leave them world-readable), and so is the backup; the
 * original mode is kept in the state and put back with the original bytes.
 *
 * One stack per file: create always leaves `<path>.armp-backup` (the original bytes, or an empty
 * marker when there was no file), and refuses when one exists. A second stack on the same file
 * therefore fails at its first `up` instead of backing up the first stack's URLs and restoring
 * them after both are destroyed.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";

export const BACKUP_SUFFIX = ".armp-backup";

export interface EnvFileInputs {
  /** The env file; relative paths resolve against the project directory (the provider's cwd). */
  path: string;
  /** KEY -> value, written in this order. */
  values: Record<string, string>;
}

export interface EnvFileOutputs extends EnvFileInputs {
  /** Whether the file existed before create (then `backupPath` holds its original bytes). */
  existed: boolean;
  backupPath: string;
  /** sha256 of the original file (empty when it did not exist), to prove a restore byte-identical. */
  originalSha256: string;
  /** Permission bits of the original file (0 when it did not exist); restored on delete. */
  originalMode?: number;
}

/** Mode of the env file and its backup while the stack manages them: owner read/write only. */
export const SECRET_FILE_MODE = 0o600;

export class EnvFileError extends Error {
  constructor(
    readonly code: "CONFIG_INVALID" | "BACKUP_EXISTS" | "IO_FAILED",
    message: string,
    readonly meta: { path: string; key?: string },
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "EnvFileError";
  }
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;
// `KEY=...` or `export KEY=...`, as dotenv and shells accept.
const ASSIGNMENT = /^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)\s*=/;

function sha256(buf: Buffer): string {
  return crypto.createHash("sha256").update(buf).digest("hex");
}

/** Bare when the value has only URL-ish characters, else double-quoted with \ " $ ` and newlines escaped. */
export function formatValue(v: string): string {
  if (/^[A-Za-z0-9_@%+=:,./?&-]*$/.test(v)) return v;
  return `"${v.replace(/[\\"$`]/g, (c) => `\\${c}`).replace(/\n/g, "\\n")}"`;
}

/**
 * Returns `original` with each managed key's line replaced in place (first occurrence; later
 * duplicates dropped so the file has one definition) and missing keys appended; every other line
 * is kept byte for byte.
 */
export function renderEnvFile(original: string, values: Record<string, string>): string {
  const pending = new Map(Object.entries(values));
  const seen = new Set<string>();
  const eol = original.includes("\r\n") ? "\r\n" : "\n";
  const lines = original === "" ? [] : original.split(/\r?\n/);
  const trailingNewline = lines.length > 0 && lines[lines.length - 1] === "";
  if (trailingNewline) lines.pop();
  const out: string[] = [];
  for (const line of lines) {
    const m = ASSIGNMENT.exec(line);
    const key = m?.[2];
    if (m && key !== undefined && key in values) {
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(`${m[1]}${key}=${formatValue(values[key] as string)}`);
      pending.delete(key);
    } else {
      out.push(line);
    }
  }
  for (const [k, v] of pending) out.push(`${k}=${formatValue(v)}`);
  return out.join(eol) + (out.length > 0 ? eol : "");
}

function validate(inputs: EnvFileInputs): void {
  if (typeof inputs.path !== "string" || inputs.path.trim() === "") {
    throw new EnvFileError("CONFIG_INVALID", "The env file path is empty; set armp:envFile to a file path or unset it.", { path: String(inputs.path) });
  }
  for (const k of Object.keys(inputs.values ?? {})) {
    if (!KEY.test(k)) throw new EnvFileError("CONFIG_INVALID", `"${k}" is not a valid environment variable name.`, { path: inputs.path, key: k });
    if (typeof inputs.values[k] !== "string") throw new EnvFileError("CONFIG_INVALID", `The value of ${k} must be a string.`, { path: inputs.path, key: k });
  }
}

/** Write via a temp file + rename so a crash never leaves a half-written env file. */
function writeAtomic(file: string, data: string | Buffer, mode: number): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.armp-tmp-${process.pid}`);
  try {
    fs.writeFileSync(tmp, data, { mode });
    fs.chmodSync(tmp, mode);
    fs.renameSync(tmp, file);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

function io<T>(file: string, what: string, f: () => T): T {
  try {
    return f();
  } catch (cause) {
    if (cause instanceof EnvFileError) throw cause;
    const code = (cause as NodeJS.ErrnoException).code ?? "unknown";
    throw new EnvFileError("IO_FAILED", `Could not ${what} ${file} (${code}); check that the directory exists and is writable, then run \`pulumi up\` again.`, { path: file }, { cause });
  }
}

export function create(inputs: EnvFileInputs): { id: string; outs: EnvFileOutputs } {
  validate(inputs);
  const file = inputs.path;
  const backupPath = file + BACKUP_SUFFIX;
  if (fs.existsSync(backupPath)) {
    // Never overwrite a backup: it may be the only copy of the app's pre-migration settings, and it
    // means another stack (or an earlier one) manages this file.
    throw new EnvFileError(
      "BACKUP_EXISTS",
      `${backupPath} already exists: another stack manages ${file}, or an earlier one left it. Give this stack its own armp-postgres:envFile, or destroy the other stack (which restores the file), or restore the backup over ${file} and delete it; then run \`pulumi up\` again.`,
      { path: file },
    );
  }
  const existed = fs.existsSync(file);
  const original = existed ? io(file, "read", () => fs.readFileSync(file)) : Buffer.alloc(0);
  const originalMode = existed ? fs.statSync(file).mode & 0o777 : 0;
  // The backup holds the original bytes, or is an empty marker when there was no file (state's
  // `existed` tells the two apart); wx: fail rather than overwrite one that appeared meanwhile.
  io(backupPath, "write the backup", () => fs.writeFileSync(backupPath, original, { mode: SECRET_FILE_MODE, flag: "wx" }));
  try {
    io(backupPath, "write the backup", () => fs.chmodSync(backupPath, SECRET_FILE_MODE));
    io(file, "write", () => writeAtomic(file, renderEnvFile(original.toString("utf8"), inputs.values), SECRET_FILE_MODE));
  } catch (err) {
    // A failed create must leave nothing behind (the engine will not call delete for it).
    fs.rmSync(backupPath, { force: true });
    throw err;
  }
  const outs: EnvFileOutputs = { path: file, values: inputs.values, existed, backupPath, originalSha256: existed ? sha256(original) : "", originalMode };
  return { id: `envfile:${path.resolve(file)}`, outs };
}

export function diff(olds: EnvFileOutputs, news: EnvFileInputs): { changes: boolean; replaces: string[]; deleteBeforeReplace: boolean } {
  // A different path is a different file: restore the old one, then back up and write the new one.
  const replaces = olds.path !== news.path ? ["path"] : [];
  const oldKeys = Object.keys(olds.values ?? {});
  const newKeys = Object.keys(news.values ?? {});
  const valuesChanged = oldKeys.length !== newKeys.length || oldKeys.some((k, i) => k !== newKeys[i] || olds.values[k] !== news.values[k]);
  return { changes: replaces.length > 0 || valuesChanged, replaces, deleteBeforeReplace: true };
}

/** Rewrites the managed keys in the current file; unrelated lines (and the backup) stay as they are. */
export function update(olds: EnvFileOutputs, news: EnvFileInputs): { outs: EnvFileOutputs } {
  validate(news);
  const file = news.path;
  const current = fs.existsSync(file) ? io(file, "read", () => fs.readFileSync(file, "utf8")) : "";
  // Keys managed before but not any more are removed so the app does not keep a stale value.
  const dropped = Object.keys(olds.values ?? {}).filter((k) => !(k in news.values));
  const base = dropped.length === 0 ? current : removeKeys(current, dropped);
  io(file, "write", () => writeAtomic(file, renderEnvFile(base, news.values), SECRET_FILE_MODE));
  return { outs: { ...olds, path: file, values: news.values } };
}

function removeKeys(text: string, keys: string[]): string {
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  return text
    .split(/\r?\n/)
    .filter((line) => {
      const k = ASSIGNMENT.exec(line)?.[2];
      return k === undefined || !keys.includes(k);
    })
    .join(eol);
}

/** Puts the original bytes back (or removes the file the stack created). */
export function remove(props: EnvFileOutputs): void {
  const file = props.path;
  const backupPath = props.backupPath || file + BACKUP_SUFFIX;
  if (props.existed) {
    if (!fs.existsSync(backupPath)) {
      throw new EnvFileError(
        "IO_FAILED",
        `Cannot restore ${file}: its backup ${backupPath} is missing. Restore the file by hand (the app's previous DATABASE_URL), then run \`pulumi destroy\` again or \`pulumi state delete\` this resource.`,
        { path: file },
      );
    }
    // State written before originalMode existed: the backup then still has the original's mode.
    const mode = props.originalMode || fs.statSync(backupPath).mode & 0o777;
    io(file, "restore", () => writeAtomic(file, fs.readFileSync(backupPath), mode));
    io(backupPath, "remove the backup", () => fs.rmSync(backupPath));
  } else {
    io(file, "remove", () => fs.rmSync(file, { force: true }));
    io(backupPath, "remove the backup", () => fs.rmSync(backupPath, { force: true }));
  }
}
