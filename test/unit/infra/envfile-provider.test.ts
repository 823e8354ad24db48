/**
 * The EnvFile dynamic provider as the Pulumi provider host runs it: serialized with
 * pulumi.runtime.serializeFunction, rehydrated with require-from-string in a process whose cwd is
 * the repo root, loading dist/infra/providers/envfile-impl.js (run `npm run build` first). Real
 * files in a temp dir: create backs up and writes, diff/update rewrite only the managed keys,
 * delete puts the original bytes back.
 */
import * as crypto from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { EnvFileInputs, EnvFileOutputs } from "../../../infra/providers/envfile-impl";
import { envFileProvider } from "../../../infra/providers/envfile";
import { secretProvider } from "../../../infra/providers/secret";

const requireFromString = require("require-from-string") as (code: string, filename?: string) => { handler: () => pulumi.dynamic.ResourceProvider };

jest.setTimeout(60_000);

const ROOT = path.resolve(__dirname, "../../..");
const IMPL = path.join(ROOT, "dist/infra/providers/envfile-impl.js");

/** CreateResult.outs is optional in the SDK's types; these providers always return it. */
function must<T>(v: T | undefined): T {
  if (v === undefined) throw new Error("provider returned no outputs");
  return v;
}

const sha = (b: Buffer) => crypto.createHash("sha256").update(b).digest("hex");

let provider: Required<Pick<pulumi.dynamic.ResourceProvider<EnvFileInputs, EnvFileOutputs>, "create" | "diff" | "update" | "delete">>;
let serializedText: string;
let dir: string;

beforeAll(async () => {
  if (!fs.existsSync(IMPL)) {
    throw new Error(`${IMPL} is missing: run \`npm run build\` before this test (the provider loads compiled code, like under \`pulumi up\`).`);
  }
  // The provider host's cwd is the project directory; relative requires resolve against it.
  expect(process.cwd()).toBe(ROOT);
  const sf = await pulumi.runtime.serializeFunction(() => envFileProvider, { allowSecrets: true });
  serializedText = sf.text;
  provider = requireFromString(sf.text, "").handler() as typeof provider;
});

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "armp-envfile-"));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

const VALUES = {
  DATABASE_URL: "postgresql://armp_app:s3cret%21pw@127.0.0.1:6432/armp",
  DIRECT_DATABASE_URL: "postgresql://armp_app:s3cret%21pw@127.0.0.1:5432/armp",
  ENVIRONMENT: "production",
  LOG_LEVEL: "info",
};

// The seed's app env file: SQLite URL, CRLF line ends, a comment, no newline at the end.
const ORIGINAL = Buffer.from("# ARMP settings\r\nDATABASE_URL=sqlite:///./data/armp.db\r\nSECRET_KEY=keep-me\r\nexport LOG_LEVEL=debug", "utf8");

describe("EnvFile provider (serialized, loading dist/)", () => {
  it("serializes to code that loads the impl by a cwd-relative dist path and holds no file path or value", () => {
    expect(serializedText).toContain('require("./dist/infra/providers/envfile-impl")');
    expect(serializedText).not.toContain(ROOT);
    expect(serializedText).not.toContain("postgresql://");
  });

  it("create backs up the existing file, rewrites the managed keys in place and appends the rest", async () => {
    const file = path.join(dir, ".env");
    fs.writeFileSync(file, ORIGINAL, { mode: 0o640 });
    fs.chmodSync(file, 0o640);
    const res = await provider.create({ path: file, values: VALUES });
    expect(res.id).toBe(`envfile:${file}`);
    expect(res.outs).toEqual({ path: file, values: VALUES, existed: true, backupPath: `${file}.armp-backup`, originalSha256: sha(ORIGINAL), originalMode: 0o640 });
    expect(fs.readFileSync(`${file}.armp-backup`).equals(ORIGINAL)).toBe(true);
    // Both hold what the app had or now has (passwords): owner-only, whatever the original's mode.
    expect(fs.statSync(`${file}.armp-backup`).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, "utf8")).toBe(
      "# ARMP settings\r\n" +
        "DATABASE_URL=postgresql://armp_app:s3cret%21pw@127.0.0.1:6432/armp\r\n" +
        "SECRET_KEY=keep-me\r\n" +
        "export LOG_LEVEL=info\r\n" +
        "DIRECT_DATABASE_URL=postgresql://armp_app:s3cret%21pw@127.0.0.1:5432/armp\r\n" +
        "ENVIRONMENT=production\r\n",
    );
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
  });

  it("delete restores the original file byte for byte and removes the backup", async () => {
    const file = path.join(dir, ".env");
    fs.writeFileSync(file, ORIGINAL);
    fs.chmodSync(file, 0o644);
    const outs = must((await provider.create({ path: file, values: VALUES })).outs);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    await provider.delete(`envfile:${file}`, outs);
    const restored = fs.readFileSync(file);
    expect(restored.equals(ORIGINAL)).toBe(true);
    // The original (a SQLite URL, no password) gets its own mode back.
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);
    expect(sha(restored)).toBe(outs.originalSha256);
    expect(fs.existsSync(`${file}.armp-backup`)).toBe(false);
    expect(fs.readdirSync(dir)).toEqual([".env"]);
  });

  it("create on a missing file writes a new owner-only file; delete removes it", async () => {
    const file = path.join(dir, "app.env");
    const outs = must((await provider.create({ path: file, values: VALUES })).outs);
    expect(outs.existed).toBe(false);
    expect(outs.originalSha256).toBe("");
    expect(fs.readFileSync(file, "utf8")).toBe(
      "DATABASE_URL=postgresql://armp_app:s3cret%21pw@127.0.0.1:6432/armp\n" +
        "DIRECT_DATABASE_URL=postgresql://armp_app:s3cret%21pw@127.0.0.1:5432/armp\n" +
        "ENVIRONMENT=production\n" +
        "LOG_LEVEL=info\n",
    );
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(outs.originalMode).toBe(0);
    // The empty marker that claims the file for this stack.
    expect(fs.readFileSync(`${file}.armp-backup`, "utf8")).toBe("");
    await provider.delete(`envfile:${file}`, outs);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("a second stack on the same env file is refused, so destroying both leaves no dead stack's URL behind", async () => {
    const file = path.join(dir, ".env");
    const first = must((await provider.create({ path: file, values: VALUES })).outs);
    const other = { ...VALUES, DATABASE_URL: "postgresql://armp_app:other@127.0.0.1:7432/armp" };
    await expect(provider.create({ path: file, values: other })).rejects.toThrow(
      `${file}.armp-backup already exists: another stack manages ${file}, or an earlier one left it. Give this stack its own armp-postgres:envFile, or destroy the other stack (which restores the file), or restore the backup over ${file} and delete it; then run \`pulumi up\` again.`,
    );
    expect(fs.readFileSync(file, "utf8")).toContain("DATABASE_URL=postgresql://armp_app:s3cret%21pw@127.0.0.1:6432/armp\n");
    await provider.delete("id", first);
    expect(fs.readdirSync(dir)).toEqual([]);
    // Once the first stack is gone, the second one may take the file.
    const second = must((await provider.create({ path: file, values: other })).outs);
    expect(fs.readFileSync(file, "utf8").split("\n")[0]).toBe("DATABASE_URL=postgresql://armp_app:other@127.0.0.1:7432/armp");
    await provider.delete("id", second);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  it("diff: no change, a value change (update in place), a path change (replace, delete first)", async () => {
    const file = path.join(dir, ".env");
    const outs = must((await provider.create({ path: file, values: VALUES })).outs);
    expect(await provider.diff("id", outs, { path: file, values: { ...VALUES } })).toEqual({ changes: false, replaces: [], deleteBeforeReplace: true });
    expect(await provider.diff("id", outs, { path: file, values: { ...VALUES, LOG_LEVEL: "debug" } })).toEqual({ changes: true, replaces: [], deleteBeforeReplace: true });
    expect(await provider.diff("id", outs, { path: path.join(dir, "other.env"), values: VALUES })).toEqual({ changes: true, replaces: ["path"], deleteBeforeReplace: true });
  });

  it("update rewrites changed keys, drops keys no longer managed, keeps other lines and the original backup", async () => {
    const file = path.join(dir, ".env");
    fs.writeFileSync(file, ORIGINAL);
    const created = must((await provider.create({ path: file, values: VALUES })).outs);
    // The user edits an unrelated line meanwhile (and loosens the mode); update keeps the line.
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("SECRET_KEY=keep-me", "SECRET_KEY=edited"));
    fs.chmodSync(file, 0o644);
    const { DIRECT_DATABASE_URL: _dropped, ...rest } = VALUES;
    const next = { ...rest, LOG_LEVEL: "warning", DATABASE_URL: "postgresql://armp_app:n3w@127.0.0.1:6432/armp" };
    const updated = must((await provider.update("id", created, { path: file, values: next })).outs);
    expect(updated).toEqual({ ...created, values: next });
    expect(fs.readFileSync(file, "utf8")).toBe(
      "# ARMP settings\r\n" +
        "DATABASE_URL=postgresql://armp_app:n3w@127.0.0.1:6432/armp\r\n" +
        "SECRET_KEY=edited\r\n" +
        "export LOG_LEVEL=warning\r\n" +
        "ENVIRONMENT=production\r\n",
    );
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(`${file}.armp-backup`).equals(ORIGINAL)).toBe(true);
    // Destroy after an update still restores the pre-stack file.
    await provider.delete("id", updated);
    expect(fs.readFileSync(file).equals(ORIGINAL)).toBe(true);
  });

  it("create refuses to overwrite an existing backup and leaves both files untouched", async () => {
    const file = path.join(dir, ".env");
    fs.writeFileSync(file, ORIGINAL);
    fs.writeFileSync(`${file}.armp-backup`, "older backup\n");
    await expect(provider.create({ path: file, values: VALUES })).rejects.toThrow(`${file}.armp-backup already exists: another stack manages ${file}`);
    expect(fs.readFileSync(file).equals(ORIGINAL)).toBe(true);
    expect(fs.readFileSync(`${file}.armp-backup`, "utf8")).toBe("older backup\n");
  });

  it("an I/O failure names the file and the fix, never a value", async () => {
    const file = path.join(dir, "missing-dir", ".env");
    const err = await provider.create({ path: file, values: VALUES }).catch((e: unknown) => e as Error);
    expect((err as Error).message).toBe(`Could not write the backup ${file}.armp-backup (ENOENT); check that the directory exists and is writable, then run \`pulumi up\` again.`);
    expect((err as Error).message).not.toContain("s3cret");
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe("Secret provider", () => {
  it("generates a URL-safe password of the requested length and a 16-byte salt; a new length replaces it", async () => {
    const create = secretProvider.create.bind(secretProvider);
    const ra = await create({ length: 24 });
    const a = { id: ra.id, outs: must(ra.outs) };
    const b = { outs: must((await create({ length: 24 })).outs) };
    expect(a.outs.value).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(Buffer.from(a.outs.salt, "base64")).toHaveLength(16);
    expect(a.outs.value).not.toBe(b.outs.value);
    expect(a.outs.length).toBe(24);
    const diff = secretProvider.diff!.bind(secretProvider);
    expect(await diff(a.id, a.outs, { length: 24 })).toEqual({ changes: false, replaces: [] });
    expect(await diff(a.id, a.outs, { length: 32 })).toEqual({ changes: true, replaces: ["length"] });
  });
});
