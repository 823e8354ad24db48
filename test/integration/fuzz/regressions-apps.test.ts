/**
 * Fixed cases of the app categories of the generative suite (test/fuzz/gen-apps.ts), each a
 * DbSpec written by the same generator code and checked by the same independent checker
 * (check.ts + check-apps.ts), with the exact outcome (tables compared, rows compared) it must have.
 */
import { adminUrl } from "../../support/db";
import { checkCase, type Outcome } from "../../fuzz/check";
import type { AppsSpec } from "../../fuzz/gen-apps";
import type { DbSpec } from "../../fuzz/model";

const NONE: AppsSpec = { virtual: [], collations: null, generated: null, wal: "off", mixed: null, coreData: null };

function only(apps: Partial<AppsSpec>): DbSpec {
  return { tables: [], views: [], apps: { ...NONE, ...apps } };
}

const CASES: { name: string; spec: DbSpec; outcome: Outcome }[] = [
  {
    // The checker's first version expected <name>_content among the shadows because PRAGMA
    // table_list calls it shadow by name; with content= it is the app's table and is copied.
    name: "FTS5/FTS4 with content='<name>_content', FTS3, R*Tree: skipped with their shadows, the app's _content table copied",
    spec: only({
      virtual: [
        { module: "fts5", externalContent: true, rows: 3, seed: 1 },
        { module: "fts4", externalContent: true, rows: 2, seed: 2 },
        { module: "fts3", externalContent: false, rows: 4, seed: 3 },
        { module: "rtree", externalContent: false, rows: 5, seed: 4 },
      ],
    }),
    outcome: { kind: "migrated", tables: 2, rows: 5 },
  },
  {
    name: "a WAL file with an un-checkpointed -wal: its rows are read, the -wal and the listing stay as they were",
    spec: only({ wal: "hot", generated: { cols: [{ kind: "concat", stored: false }, { kind: "untranslatable", stored: true }, { kind: "json", stored: false }], rows: [{ a: 5, b: "Apple", j: '{"n": 5}' }, { a: null, b: null, j: null }] } }),
    outcome: { kind: "migrated", tables: 2, rows: 4 },
  },
  {
    name: "unicase UNIQUE holding Ämter and ämter (distinct in SQLite's NOCASE, one key in ICU level 2): refused before DDL",
    spec: only({ collations: { cols: [{ coll: "unicase", key: "unique" }, { coll: "my_coll", key: "none" }], rows: [["Ämter", "a"], ["ämter", "A"]] } }),
    outcome: { kind: "refused", code: "COLLATION_KEY_CONFLICT", preDdl: true, message: expect.any(String) as unknown as string },
  },
  {
    name: "Core Data store: seconds since 2001 (before and after the origin) arrive as their instants",
    spec: only({ coreData: { withMetadata: true, entities: [{ tsCols: 2, rows: [{ title: "y2k", ts: [-31622400, 599529600.5] }, { title: null, ts: [0.0625, null] }] }] } }),
    outcome: { kind: "migrated", tables: 2, rows: 2 },
  },
];

describe("app categories of the generative suite: fixed cases", () => {
  for (const c of CASES)
    test(c.name, async () => {
      expect(await checkCase(c.spec, { adminUrl: adminUrl(), requirePreDdl: true })).toEqual(c.outcome);
    }, 120_000);
});
