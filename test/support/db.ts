/** Per-test-file databases on the shared cluster started by global-setup. */
import { Client } from "pg";
import type { ClusterInfo } from "./pg-cluster";

export function clusterInfo(): ClusterInfo {
  const raw = process.env.ARMP_TEST_PG_STATE;
  if (!raw) throw new Error("ARMP_TEST_PG_STATE is not set: run integration tests through jest's integration project (global-setup starts PostgreSQL).");
  return JSON.parse(raw) as ClusterInfo;
}

export function adminUrl(database = "postgres"): string {
  const info = clusterInfo();
  return `postgres://${info.superuser}:${encodeURIComponent(info.password)}@127.0.0.1:${info.port}/${database}`;
}

let counter = 0;

/** Creates a fresh database and returns its superuser URL. */
export async function createTestDatabase(prefix = "t"): Promise<{ name: string; url: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`.toLowerCase().replace(/[^a-z0-9_]/g, "_");
  const admin = new Client({ connectionString: adminUrl() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  return {
    name,
    url: adminUrl(name),
    drop: async () => {
      const c = new Client({ connectionString: adminUrl() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** Runs a query on a URL with a short-lived client. */
export async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
