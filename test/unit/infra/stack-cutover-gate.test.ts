/**
 * Issue 6's gated cut-over in the stack: the env file and the app container (the switch to
 * PostgreSQL) depend on the migration's verification resource, so a failed verification stops
 * `pulumi up` before the app is pointed at PostgreSQL. Asserted on the raw registration requests,
 * since mocks' newResource does not see options.
 */
import * as pulumi from "@pulumi/pulumi";
import { readConfig } from "../../../infra/config";
import { createStack, type MigrationFactory } from "../../../infra/stack";
import { installMocks, settle, valueOf } from "./harness";

jest.setTimeout(30_000);

const VERIFICATION = "urn:pulumi:unit::armp-postgres::test:migrate:Verification::armp-verification";
const GUARD = "urn:pulumi:unit::armp-postgres::test:migrate:RollbackGuard::armp-rollback-guard";

interface Req {
  getName(): string;
  getDependenciesList(): string[];
}

/** Direct dependencies (explicit + through inputs) of each registered resource, by name. */
async function dependencies(migration?: MigrationFactory): Promise<Map<string, string[]>> {
  await installMocks({ "armp-postgres:postgresPassword": "pw", "armp-postgres:envFile": ".env.test", "armp-postgres:appImage": "armp-app:1" }, ["armp-postgres:postgresPassword"]);
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Req, cb: unknown): void };
  const original = monitor.registerResource.bind(monitor);
  const deps = new Map<string, string[]>();
  monitor.registerResource = (req: Req, cb: unknown) => {
    deps.set(req.getName(), [...req.getDependenciesList()].sort());
    original(req, cb);
  };
  const out = createStack(readConfig(), migration ? { migration } : {});
  await valueOf(out.databaseUrl);
  if (out.envFileBackup) await valueOf(out.envFileBackup);
  await settle();
  return deps;
}

/** Stands in for MigrationVerification (a custom resource whose create fails on a mismatch). */
class FakeVerification extends pulumi.CustomResource {
  constructor(name: string) {
    super("test:migrate:Verification", name, {});
  }
}

const withVerification: MigrationFactory = (name) => {
  const verification = new FakeVerification(`${name}-verification`);
  return { report: pulumi.output({ ok: true }), verification };
};

/** Stands in for MigrationRollbackGuard (capture on): PostgreSQL capture, replayed on destroy. */
class FakeGuard extends pulumi.CustomResource {
  constructor(name: string, opts: pulumi.CustomResourceOptions) {
    super("test:migrate:RollbackGuard", name, {}, opts);
  }
}

/** Like the Migration component with capture on: the guard is an Output, decided at run time. */
const withGuard: MigrationFactory = (name) => {
  const verification = new FakeVerification(`${name}-verification`);
  const rollbackGuard = pulumi.output(true).apply((on) => (on ? new FakeGuard(`${name}-rollback-guard`, { dependsOn: [verification] }) : undefined));
  return { report: pulumi.output({ ok: true }), verification, rollbackGuard };
};

describe("gated cut-over: the app is switched only after the migration verified", () => {
  it("adds exactly the verification resource to the env file's and the app container's dependencies", async () => {
    const gated = await dependencies(withVerification);
    const plain = await dependencies();
    for (const name of ["armp-envfile", "armp-app"]) {
      expect(gated.get(name)).toEqual([...plain.get(name)!, VERIFICATION].sort());
      expect(plain.get(name)).not.toContain(VERIFICATION);
    }
    // Nothing else waits for it: the database side must exist before the migration can run.
    expect([...gated.entries()].filter(([, d]) => d.includes(VERIFICATION)).map(([n]) => n).sort()).toEqual(["armp-app", "armp-envfile"]);
  });

  it("with capture on, the env file and app container also depend on the rollback guard (destroyed before its replay)", async () => {
    const guarded = await dependencies(withGuard);
    const plain = await dependencies();
    for (const name of ["armp-envfile", "armp-app"]) {
      expect(guarded.get(name)).toEqual([...plain.get(name)!, GUARD, VERIFICATION].sort());
    }
    expect([...guarded.entries()].filter(([, d]) => d.includes(GUARD)).map(([n]) => n).sort()).toEqual(["armp-app", "armp-envfile"]);
    expect(guarded.get("armp-rollback-guard")).toEqual([VERIFICATION]);
  });
});
