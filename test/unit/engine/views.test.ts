import { readSchema } from "../../../migrate/engine/target-ddl";
import { planViews, type ViewPlan } from "../../../migrate/engine/views";
import { sqliteFile } from "./fixture";

const TABLES = `
CREATE TABLE "Customer" ("CustomerId" INTEGER PRIMARY KEY, "Name" TEXT, "Zip" VARCHAR(10), "Vip" BOOLEAN, "Joined" DATETIME, "Score" REAL);
CREATE TABLE "Order" ("OrderId" INTEGER PRIMARY KEY, "CustomerId" INTEGER, "Total" NUMERIC(10,2), "Note" TEXT);
`;

function plan(views: string, names?: Parameters<typeof planViews>[3]): Record<string, ViewPlan> {
  const schema = readSchema(sqliteFile(TABLES + views));
  return Object.fromEntries(planViews(schema, "app", {}, names).map((v) => [v.name, v]));
}

function body(v: ViewPlan): string {
  if (!v.sql) throw new Error(`view ${v.name} skipped: ${v.reason}`);
  return v.sql.replace(/^CREATE VIEW .*? AS /, "");
}

describe("view translation (SQLite body -> PostgreSQL text)", () => {
  it("resolves names case-insensitively to the created names, quoted, and expands *", () => {
    const p = plan(`CREATE VIEW v AS SELECT c.name, o.* FROM customer c JOIN [order] o ON o.customerid == c.CUSTOMERID;`);
    expect(p.v.sql).toBe(
      `CREATE VIEW "app"."v" ("Name", "OrderId", "CustomerId", "Total", "Note") AS SELECT "c"."Name" AS "Name", "o"."OrderId" AS "OrderId", "o"."CustomerId" AS "CustomerId", "o"."Total" AS "Total", "o"."Note" AS "Note" FROM "app"."Customer" AS "c" INNER JOIN "app"."Order" AS "o" ON "o"."CustomerId" = "c"."CustomerId"`,
    );
  });

  it("takes the PostgreSQL names from the lookups it is given", () => {
    const p = plan(`CREATE VIEW v AS SELECT name FROM customer;`, { table: (t) => `t_${t.toLowerCase()}`, column: (t, c) => `${t}_${c}`.toLowerCase() });
    expect(p.v.pgName).toBe("t_v");
    expect(p.v.sql).toBe(`CREATE VIEW "app"."t_v" ("Name") AS SELECT "t_customer"."customer_name" AS "Name" FROM "app"."t_customer"`);
  });

  it("writes out SQLite's implicit conversions", () => {
    const p = plan(`
      CREATE VIEW loose AS SELECT name FROM customer WHERE zip = 12345 AND vip = 1 AND customerid = '7';
      CREATE VIEW concat AS SELECT customerid || ':' || score AS tag, ifnull(zip, 0) AS z FROM customer;
      CREATE VIEW truthy AS SELECT name FROM customer WHERE score;
      CREATE VIEW agg AS SELECT customerid, group_concat(note, '|') AS notes, total(total) AS t FROM "order" GROUP BY customerid;
      CREATE VIEW sub AS SELECT n FROM (SELECT name AS n FROM customer) LIMIT -1 OFFSET 2;
    `);
    expect(body(p.loose)).toBe(`SELECT "Customer"."Name" AS "Name" FROM "app"."Customer" WHERE "Customer"."Zip" = '12345' AND "Customer"."Vip" = TRUE AND "Customer"."CustomerId" = 7`);
    expect(body(p.concat)).toBe(
      `SELECT ("Customer"."CustomerId")::text || ':' || (CASE WHEN ("Customer"."Score") = trunc("Customer"."Score") AND abs("Customer"."Score") < 1e15 THEN trunc("Customer"."Score")::bigint::text || '.0' ELSE ("Customer"."Score")::text END) AS "tag", COALESCE("Customer"."Zip", (0)::text) AS "z" FROM "app"."Customer"`,
    );
    expect(body(p.truthy)).toBe(`SELECT "Customer"."Name" AS "Name" FROM "app"."Customer" WHERE ("Customer"."Score" <> 0)`);
    expect(body(p.agg)).toBe(`SELECT "Order"."CustomerId" AS "CustomerId", string_agg("Order"."Note", '|') AS "notes", COALESCE(sum("Order"."Total"), 0)::float8 AS "t" FROM "app"."Order" GROUP BY "Order"."CustomerId"`);
    expect(body(p.sub)).toBe(`SELECT "subquery1"."n" AS "n" FROM (SELECT "Customer"."Name" AS "n" FROM "app"."Customer") AS "subquery1" OFFSET 2`);
  });

  it("translates the date and time functions with 'now', modifiers and column values", () => {
    const p = plan(`CREATE VIEW d AS SELECT datetime('now', '-1 day') AS a, date(joined, 'start of month', '+1 month') AS b, strftime('%Y-%m %H', joined) AS c, julianday(joined) AS e, unixepoch(joined) AS f FROM customer WHERE joined > datetime('2020-01-01');`);
    expect(body(p.d)).toBe(
      [
        `SELECT to_char(((now() AT TIME ZONE 'UTC') + INTERVAL '-1 days'), 'YYYY-MM-DD HH24:MI:SS') AS "a",`,
        `to_char((date_trunc('month', date_trunc('month', "Customer"."Joined")) + INTERVAL '+1 months' + (date_trunc('month', "Customer"."Joined") - date_trunc('month', date_trunc('month', "Customer"."Joined")))), 'YYYY-MM-DD') AS "b",`,
        `(to_char("Customer"."Joined", 'YYYY') || '-' || to_char("Customer"."Joined", 'MM') || ' ' || to_char("Customer"."Joined", 'HH24')) AS "c",`,
        `(extract(epoch FROM "Customer"."Joined")::float8 / 86400 + 2440587.5) AS "e",`,
        `floor(extract(epoch FROM "Customer"."Joined"))::bigint AS "f"`,
        `FROM "app"."Customer" WHERE "Customer"."Joined" > TIMESTAMP '2020-01-01'`,
      ].join(" "),
    );
  });

  it("orders views after the views they read, and skips with the exact reason and the original SQL", () => {
    const schema = readSchema(
      sqliteFile(
        TABLES +
          `CREATE VIEW a_top AS SELECT n FROM z_base WHERE n LIKE 'A%';
           CREATE VIEW z_base AS SELECT name AS n FROM customer;
           CREATE VIEW bad AS SELECT printf('%d', customerid) AS x FROM customer;
           CREATE VIEW over_bad AS SELECT x FROM bad;
           CREATE VIEW rid AS SELECT rowid FROM customer;`,
      ),
    );
    const out = planViews(schema, "public");
    expect(out.map((v) => [v.name, v.status, v.reason ?? null])).toEqual([
      ["bad", "skipped", "function printf() has no PostgreSQL translation; rewrite it for PostgreSQL by hand"],
      ["over_bad", "skipped", "names view bad, which is skipped; rewrite it for PostgreSQL by hand"],
      ["rid", "skipped", "uses SQLite's rowid, which PostgreSQL tables do not have; rewrite it for PostgreSQL by hand"],
      ["z_base", "recreate", null],
      ["a_top", "recreate", null],
    ]);
    expect(out[0].original).toBe("CREATE VIEW bad AS SELECT printf('%d', customerid) AS x FROM customer");
    expect(out[4].dependsOn).toEqual(["z_base"]);
    expect(body(out[4])).toBe(`SELECT "z_base"."n" AS "n" FROM "public"."z_base" WHERE "z_base"."n" ILIKE 'A%' ESCAPE ''`);
  });
});
