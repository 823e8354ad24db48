import * as fs from "fs";
import { stopCluster, type ClusterInfo } from "./pg-cluster";

export default async function globalTeardown(): Promise<void> {
  const info = (globalThis as Record<string, unknown>).__ARMP_CLUSTER__ as ClusterInfo | undefined;
  if (info) {
    stopCluster(info);
    for (const f of fs.readdirSync("/tmp").filter((n) => n === `armp-jest-cluster-${process.pid}.json`)) fs.rmSync(`/tmp/${f}`);
  }
}
