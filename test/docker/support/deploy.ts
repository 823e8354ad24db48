/**
 * Deploying the program's captured inputs onto the real engine, shared by the docker-suite
 * files: free host ports, connections with retry, the postgresql provider's resources as the SQL they stand for, and the containers in
 * dependency order through support/engine.ts.
 */
import * as http from "http";
import * as net from "net";
import { Client } from "pg";
import type { Harness } from "../../unit/infra/harness";
import { createContainer, type ContainerInputs } from "./engine";

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export async function connect(url: string, attempts = 30): Promise<Client> {
  for (let i = 1; ; i++) {
    const c = new Client({ connectionString: url });
    try {
      await c.connect();
      return c;
    } catch (err) {
      await c.end().catch(() => undefined);
      if (i >= attempts) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** GET over plain HTTP: status and body. */
export function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
      })
      .on("error", reject);
  });
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;
const literal = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** The postgresql provider's Role, Database and Grant resources as SQL, over the provider's own connection inputs. */
export async function applyPostgresResources(h: Harness): Promise<void> {
  const p = h.byName("armp-pg").inputs as Record<string, string>;
  const admin = `postgresql://${encodeURIComponent(p.username as string)}:${encodeURIComponent(p.password as string)}@${p.host}:${p.port}/${p.database}?sslmode=${p.sslmode}`;
  const c = await connect(admin);
  try {
    for (const r of h.ofType("postgresql:index/role:Role")) {
      const i = r.inputs as { name: string; login: boolean; superuser: boolean; createDatabase: boolean; createRole: boolean; password: string; connectionLimit?: number };
      await c.query(
        `CREATE ROLE ${ident(i.name)} ${i.login ? "LOGIN" : "NOLOGIN"} ${i.superuser ? "SUPERUSER" : "NOSUPERUSER"} ${i.createDatabase ? "CREATEDB" : "NOCREATEDB"} ` +
          `${i.createRole ? "CREATEROLE" : "NOCREATEROLE"} CONNECTION LIMIT ${i.connectionLimit ?? -1} PASSWORD ${literal(i.password)}`,
      );
    }
    for (const r of h.ofType("postgresql:index/database:Database")) {
      const i = r.inputs as { name: string; owner: string; encoding: string; template: string };
      await c.query(`CREATE DATABASE ${ident(i.name)} OWNER ${ident(i.owner)} ENCODING ${literal(i.encoding)} TEMPLATE ${ident(i.template)}`);
    }
  } finally {
    await c.end();
  }
  for (const r of h.ofType("postgresql:index/grant:Grant")) {
    const i = r.inputs as { database: string; role: string; objectType: string; schema?: string; privileges: string[] };
    const g = await connect(admin.replace(/\/postgres\?/, `/${i.database}?`));
    try {
      const on = i.objectType === "database" ? `DATABASE ${ident(i.database)}` : `SCHEMA ${ident(i.schema as string)}`;
      await g.query(`GRANT ${i.privileges.join(", ")} ON ${on} TO ${ident(i.role)}`);
    } finally {
      await g.end();
    }
  }
}

/**
 * Creates the named containers in order (each waits for health when its inputs say `wait`),
 * applying the postgresql resources right after "armp-postgres" — the order the engine's
 * dependency graph gives. Container names get `-<suffix>`, networks map to `<name>-<suffix>`.
 */
export async function createContainers(h: Harness, suffix: string, names: string[]): Promise<Map<string, string>> {
  const images = new Map(h.ofType("docker:index/remoteImage:RemoteImage").map((r) => [`sha256:${r.name}`, String(r.inputs.name)]));
  const networks = new Map(h.ofType("docker:index/network:Network").map((r) => [`${r.name}-physical`, `${r.name}-${suffix}`]));
  const containers = new Map<string, string>();
  for (const name of names) {
    const inputs = h.byName(name).inputs as unknown as ContainerInputs;
    containers.set(name, await createContainer(`${name}-${suffix}`, inputs, images, networks, new Map()));
    if (name === "armp-postgres") await applyPostgresResources(h);
  }
  return containers;
}
