/** SQLite sources for the view tests: Northwind (schema and views as published) and a mixed-case one. */
import Database from "better-sqlite3";
import * as path from "path";
import { NORTHWIND_DDL } from "./northwind-ddl";

/** Small deterministic pseudo-random sequence (the data only has to be varied, not random). */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

const pad = (n: number): string => String(n).padStart(2, "0");

/** Northwind's 13 tables and 16 views with a generated data set: 1996-1998 orders, ISO date text. */
export function buildNorthwind(dir: string): string {
  const file = path.join(dir, "northwind.sqlite");
  const db = new Database(file);
  db.exec(NORTHWIND_DDL);
  const r = rng(7);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const cities = ["London", "Berlin", "Madrid", "Paris", "Seattle", "Tokyo", null];
  const countries = ["UK", "Germany", "Spain", "France", "USA", "Japan"];
  db.transaction(() => {
    for (let i = 1; i <= 8; i++) db.prepare("INSERT INTO Categories (CategoryName, Description) VALUES (?, ?)").run(`Category ${i}`, `Things of kind ${i}`);
    for (let i = 1; i <= 6; i++) db.prepare("INSERT INTO Suppliers (CompanyName, ContactName, City, Country) VALUES (?, ?, ?, ?)").run(`Supplier ${i}`, `Contact S${i}`, pick(cities), pick(countries));
    for (let i = 1; i <= 3; i++) db.prepare("INSERT INTO Shippers (CompanyName, Phone) VALUES (?, ?)").run(`Shipper ${i}`, `555-01${i}`);
    for (let i = 1; i <= 5; i++) db.prepare("INSERT INTO Employees (LastName, FirstName, Title, HireDate, ReportsTo) VALUES (?, ?, ?, ?, ?)").run(`Last${i}`, `First${i}`, "Sales Representative", `199${i % 4}-0${i}-15`, i === 1 ? null : 1);
    for (let i = 1; i <= 20; i++) {
      const id = `C${String(i).padStart(4, "0")}`;
      db.prepare("INSERT INTO Customers (CustomerID, CompanyName, ContactName, Address, City, Region, PostalCode, Country) VALUES (?, ?, ?, ?, ?, ?, ?, ?)").run(id, `Customer ${i}`, `Contact ${i}`, `${i} Main St`, pick(cities), i % 3 === 0 ? "North" : null, `${10000 + i}`, pick(countries));
    }
    for (let i = 1; i <= 30; i++) {
      const price = i % 3 === 0 ? 10 + i : Math.round((5 + r() * 90) * 100) / 100;
      db.prepare("INSERT INTO Products (ProductName, SupplierID, CategoryID, QuantityPerUnit, UnitPrice, UnitsInStock, Discontinued) VALUES (?, ?, ?, ?, ?, ?, ?)").run(`Product ${i}`, 1 + (i % 6), 1 + (i % 8), `${i} boxes`, price, Math.floor(r() * 100), i % 7 === 0 ? "1" : "0");
    }
    const discounts = [0, 0.05, 0.1, 0.15, 0.2, 0.25];
    for (let i = 1; i <= 120; i++) {
      const y = 1996 + (i % 3);
      const m = 1 + Math.floor(r() * 12);
      const d = 1 + Math.floor(r() * 28);
      const order = `${y}-${pad(m)}-${pad(d)} 00:00:00`;
      const shipped = i % 11 === 0 ? null : `${y}-${pad(m)}-${pad(Math.min(28, d + 3))} 00:00:00`;
      const c = `C${String(1 + (i % 20)).padStart(4, "0")}`;
      const info = db
        .prepare("INSERT INTO Orders (CustomerID, EmployeeID, OrderDate, RequiredDate, ShippedDate, ShipVia, Freight, ShipName, ShipCity, ShipCountry) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
        .run(c, 1 + (i % 5), order, `${y}-${pad(m)}-28 00:00:00`, shipped, 1 + (i % 3), Math.round(r() * 50000) / 100, `Ship ${i}`, pick(cities), pick(countries));
      const used = new Set<number>();
      for (let k = 0; k < 1 + (i % 4); k++) {
        const p = 1 + Math.floor(r() * 30);
        if (used.has(p)) continue;
        used.add(p);
        const unit = (db.prepare("SELECT UnitPrice FROM Products WHERE ProductID = ?").get(p) as { UnitPrice: number }).UnitPrice;
        db.prepare('INSERT INTO "Order Details" (OrderID, ProductID, UnitPrice, Quantity, Discount) VALUES (?, ?, ?, ?, ?)').run(info.lastInsertRowid, p, unit, 1 + Math.floor(r() * 40) * (i % 9 === 0 ? 5 : 1), pick(discounts));
      }
    }
  })();
  db.close();
  return file;
}

/**
 * Mixed-case tables with views over them: a view over a view, GROUP_CONCAT, datetime() on column
 * values and 'now', IFNULL, a text column compared with a number, a boolean compared with 0/1,
 * `||` on numbers, `==`, LIMIT -1 and an un-aliased subquery in FROM.
 */
export const MIXED_DDL = `
CREATE TABLE "Author" ("AuthorId" INTEGER PRIMARY KEY, "FullName" TEXT NOT NULL, "Code" VARCHAR(10), "Active" BOOLEAN NOT NULL DEFAULT 1);
CREATE TABLE "BookItem" ("BookId" INTEGER PRIMARY KEY, "AuthorId" INTEGER REFERENCES "Author"("AuthorId"), "Title" TEXT, "Price" REAL, "Published" DATETIME, "Pages" INTEGER);
CREATE VIEW active_authors AS SELECT authorid, fullname, code FROM author WHERE active = 1;
CREATE VIEW [Author Books] AS SELECT a.FullName, b.title, b.price FROM active_authors a JOIN bookitem b ON b.authorid == a.AuthorId;
CREATE VIEW author_titles AS SELECT fullname, group_concat(title ORDER BY title) AS titles, count(*) AS n FROM [Author Books] GROUP BY fullname;
CREATE VIEW book_dates AS SELECT bookid, datetime(published) AS pub, date(published, '+1 month') AS next_month, strftime('%Y/%m', published) AS ym, julianday(published) - julianday('2000-01-01') AS days, datetime('now') > datetime(published) AS past FROM BookItem;
CREATE VIEW code_lookup AS SELECT fullname, ifnull(code, 'none') AS code, authorid || '-' || ifnull(pages, 0) AS tag FROM author LEFT JOIN bookitem USING (authorid) WHERE code = 7 OR code IS NULL OR code > 100;
CREATE VIEW cheap AS SELECT * FROM (SELECT title, price FROM bookitem WHERE price < 20) ORDER BY price LIMIT -1;
CREATE VIEW inactive AS SELECT FullName FROM Author WHERE Active == 0 AND NOT (Active = 1);
CREATE VIEW long_books AS SELECT authorid, group_concat(title, ' / ') AS titles FROM bookitem WHERE pages >= 222 GROUP BY authorid;
CREATE VIEW price_tags AS SELECT title, price || ' EUR' AS tag FROM bookitem;
CREATE VIEW float_text AS SELECT (0.1 + 0.2) || '' AS s;
CREATE VIEW untranslatable AS SELECT typeof(Title) AS t FROM BookItem;
`;

export function buildMixed(dir: string): string {
  const file = path.join(dir, "mixed.sqlite");
  const db = new Database(file);
  db.exec(MIXED_DDL);
  db.transaction(() => {
    const authors: [string, string | null, number][] = [["Ann Lee", "7", 1], ["Bob Ray", "0007", 1], ["Cy Dee", null, 1], ["Di Fox", "250", 0], ["Ed Kim", "12", 1]];
    for (const [n, c, a] of authors) db.prepare('INSERT INTO "Author" ("FullName", "Code", "Active") VALUES (?, ?, ?)').run(n, c, a);
    const books: [number, string, number | null, string | null, number | null][] = [
      [1, "Zeta", 12.5, "1999-12-31 23:59:59", 120],
      [1, "Alpha", 30, "2001-01-31", 300],
      [2, "Mid", 19.99, "2010-06-15 08:30:00", null],
      [3, "Solo", 5.25, null, 50],
      [4, "Hidden", 9, "2020-02-29 12:00:00", 10],
      [5, "Beta", 22, "2005-05-05 05:05:05", 222],
      [5, "Gamma", 7.75, "2006-06-06", 66],
    ];
    for (const b of books) db.prepare('INSERT INTO "BookItem" ("AuthorId", "Title", "Price", "Published", "Pages") VALUES (?, ?, ?, ?, ?)').run(...b);
  })();
  db.close();
  return file;
}

/** Subqueries (correlated, IN, scalar), a CTE with a column list, CASE over mixed classes, UNION ALL of text and numbers, aliases in WHERE, casts and scalar functions. */
export const CONSTRUCTS_DDL = `
CREATE TABLE "Customer" ("CustomerId" INTEGER PRIMARY KEY, "Name" TEXT, "Zip" VARCHAR(10), "Vip" BOOLEAN, "Joined" DATETIME, "Score" REAL);
CREATE TABLE "Order" ("OrderId" INTEGER PRIMARY KEY, "CustomerId" INTEGER, "Total" NUMERIC(10,2), "Note" TEXT);
CREATE VIEW ex AS SELECT name FROM customer c WHERE EXISTS (SELECT 1 FROM "order" o WHERE o.customerid = c.customerid) AND customerid IN (SELECT customerid FROM "order" WHERE total > 10);
CREATE VIEW cte AS WITH big(cid, t) AS (SELECT customerid, sum(total) FROM "order" GROUP BY customerid) SELECT c.name, big.t FROM big JOIN customer c ON c.customerid = big.cid;
CREATE VIEW cs AS SELECT CASE WHEN score > 5 THEN 'high' WHEN score IS NULL THEN NULL ELSE score END AS s, CASE vip WHEN 1 THEN 'yes' ELSE 'no' END AS v FROM customer;
CREATE VIEW un AS SELECT name AS x FROM customer UNION ALL SELECT total FROM "order";
CREATE VIEW al AS SELECT name AS n, score * 2 AS dbl FROM customer WHERE dbl > 3 ORDER BY n;
CREATE VIEW cnt AS SELECT count(*) AS n, count(DISTINCT zip) AS z, avg(score) AS a, max(name) AS m, (SELECT max(total) FROM "order") AS top FROM customer;
CREATE VIEW glb AS SELECT name FROM customer WHERE name GLOB 'A*' AND zip NOT LIKE '9%' AND name IS NOT 'x';
CREATE VIEW cst AS SELECT CAST(score AS INTEGER) AS i, CAST(zip AS INTEGER) AS z, CAST(customerid AS TEXT) AS t, iif(vip, 'v', 'n') AS f, max(score, 1) AS mx, substr(name, 2, 3) AS sb, length(name) AS ln, round(score, 1) AS r, upper(name) || lower('X') AS u, instr(name, 'e') AS ins FROM customer;
CREATE VIEW joined AS SELECT name, joined FROM customer WHERE joined >= '2021-01-01' AND joined < datetime('2023-01-01', '+6 months');
`;

export function buildConstructs(dir: string): string {
  const file = path.join(dir, "constructs.sqlite");
  const db = new Database(file);
  db.exec(CONSTRUCTS_DDL);
  db.transaction(() => {
    const cs: [string | null, string | null, number, string | null, number | null][] = [
      ["Anne", "90210", 1, "2021-03-04 10:00:00", 7.5],
      ["Bert", "12345", 0, "2022-12-31 23:59:59", 2],
      ["Ceel", "0777x", 1, null, null],
      [null, "54321", 0, "2023-06-30 00:00:00", 1.25],
      ["Abe", null, 1, "2020-01-01", -3.7],
    ];
    for (const c of cs) db.prepare('INSERT INTO "Customer" ("Name", "Zip", "Vip", "Joined", "Score") VALUES (?, ?, ?, ?, ?)').run(...c);
    const os: [number, number, string | null][] = [[1, 12.5, "a"], [1, 3, null], [2, 99.99, "b"], [4, 8, "c"], [5, 10.01, null]];
    for (const o of os) db.prepare('INSERT INTO "Order" ("CustomerId", "Total", "Note") VALUES (?, ?, ?)').run(...o);
  })();
  db.close();
  return file;
}
