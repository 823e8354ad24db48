/**
 * Sessions (pg.ts): one run reuses a handful of connections instead of opening one per step, and
 * closes every one it opened; a connection left inside a transaction is never handed out again.
 */
import { Client } from "pg";
import { runMigration } from "../../../migrate/engine";
import { release, session, Sessions } from "../../../migrate/engine/pg";
import { createTestDatabase } from "../../support/db";
import { copyChinook, sha256File, tempDir } from "./helpers";

describe("connection reuse within a run", () => {
  it("runs Chinook on at most 7 connections and closes all of them", async () => {
    const src = copyChinook(tempDir("sessions"));
    const before = sha256File(src);
    const db = await createTestDatabase("sessions");
    const connects = jest.spyOn(Client.prototype, "connect");
    const ends = jest.spyOn(Client.prototype, "end");
    try {
      const r = await runMigration(src, { url: db.url }, { jobs: 2 });
      expect(r.ok).toBe(true);
      expect(r.tables).toHaveLength(11);
      // Before Sessions this run opened one connection per step: 50 for Chinook. Now: the lock's,
      // and at most jobs for the target sums + jobs for the key builds + 1 for verify at once.
      expect(connects.mock.calls.length).toBeLessThanOrEqual(2 * 2 + 3);
      expect(ends.mock.calls.length).toBe(connects.mock.calls.length);
    } finally {
      connects.mockRestore();
      ends.mockRestore();
      await db.drop();
    }
    expect(sha256File(src)).toBe(before);
  });

  it("hands an idle connection out again, and closes one that is inside a transaction", async () => {
    const db = await createTestDatabase("sessions");
    const target = { url: db.url, sessions: new Sessions() };
    try {
      const a = await session(target, "test");
      const pidA = (await a.query<{ p: number }>("SELECT pg_backend_pid() AS p")).rows[0].p;
      await release(target, a);
      const b = await session(target, "test");
      expect(b).toBe(a);
      await b.query("BEGIN");
      const end = jest.spyOn(b, "end");
      await release(target, b);
      expect(end).toHaveBeenCalledTimes(1);
      const c = await session(target, "test");
      expect(c).not.toBe(a);
      const pidC = (await c.query<{ p: number }>("SELECT pg_backend_pid() AS p")).rows[0].p;
      expect(pidC).not.toBe(pidA);
      await release(target, c);
    } finally {
      await target.sessions.close();
      await db.drop();
    }
  });
});
