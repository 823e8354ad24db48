/** Starts one PostgreSQL cluster for the whole jest run; each test file makes its own database. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { startCluster } from "./pg-cluster";

export const STATE_FILE = path.join(os.tmpdir(), `armp-jest-cluster-${process.pid}.json`);

export default async function globalSetup(): Promise<void> {
  const info = await startCluster();
  process.env.ARMP_TEST_PG_URL = info.adminUrl;
  process.env.ARMP_TEST_PG_STATE = JSON.stringify(info);
  (globalThis as Record<string, unknown>).__ARMP_CLUSTER__ = info;
  fs.writeFileSync(STATE_FILE, JSON.stringify(info));
}
