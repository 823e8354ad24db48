/**
 * The COPY statements one table is loaded with, inside its load transaction. A text table is one
 * `COPY ... FROM STDIN`. A binary table (native.ts, armp_copy_bin) is one `COPY ... (FORMAT
 * binary)` for the extension's tuples, broken by a text COPY wherever a batch of rows encoded by
 * JavaScript arrives (markTextSide chunks): a stream has one format, and those rows keep COPY
 * text so PostgreSQL parses them exactly as on the text path. Statements start lazily, so a table
 * whose rows all take one path is one statement. Every statement after a TRUNCATE in the same
 * transaction may use FREEZE.
 */
import { once } from "events";
import type { Writable } from "stream";
import type { Client } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { BINARY_HEADER, BINARY_TRAILER } from "./native";

export type CopyFormat = "text" | "binary";

export class CopySegments {
  private stream: Writable | null = null;
  private format: CopyFormat | null = null;
  private done: Promise<void> = Promise.resolve();
  /** The first error PostgreSQL reported on any statement (the load must stop and roll back). */
  error: unknown = null;
  /** COPY statements started so far (tests and the bench report it). */
  statements = 0;

  /**
   * @param head `COPY <table> (<columns>) FROM STDIN`
   * @param freeze add FREEZE (the table was created or truncated in this transaction)
   */
  constructor(
    private readonly client: Client,
    private readonly head: string,
    private readonly freeze: boolean,
  ) {}

  /** Sends a chunk in `format`, ending the current statement first when its format differs; waits for drain. */
  async write(chunk: Buffer, format: CopyFormat): Promise<void> {
    if (this.error !== null) return;
    if (this.format !== format) {
      await this.end();
      if (this.error !== null) return;
      this.start(format);
    }
    const stream = this.stream!;
    if (!stream.write(chunk)) await Promise.race([once(stream, "drain"), this.done]).catch(() => undefined);
  }

  /** Ends the current statement (binary: after its trailer) and waits for PostgreSQL to accept it. */
  async end(): Promise<void> {
    const stream = this.stream;
    if (stream === null) return;
    this.stream = null;
    if (this.error === null) {
      if (this.format === "binary") stream.write(BINARY_TRAILER);
      stream.end();
    }
    this.format = null;
    await this.done.catch(() => undefined);
  }

  private start(format: CopyFormat): void {
    const options = [...(this.freeze ? ["FREEZE"] : []), ...(format === "binary" ? ["FORMAT binary"] : [])];
    const stream = this.client.query(copyFrom(`${this.head}${options.length ? ` WITH (${options.join(", ")})` : ""}`));
    this.done = new Promise<void>((res, rej) => {
      stream.on("finish", res);
      stream.on("error", rej);
    });
    // PostgreSQL may reject a row while we are still sending: remember it; writes then stop.
    this.done.catch((e: unknown) => void (this.error ??= e));
    this.stream = stream;
    this.format = format;
    this.statements++;
    if (format === "binary") stream.write(BINARY_HEADER);
  }
}
