/** Runs `armp-migrate`'s main() in-process and captures what it writes to stdout and stderr. */
import { main } from "../../migrate/cli";

export async function runMigrateCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const o = jest.spyOn(process.stdout, "write").mockImplementation((s) => ((out += String(s)), true));
  const e = jest.spyOn(process.stderr, "write").mockImplementation((s) => ((err += String(s)), true));
  try {
    return { code: await main(argv), out, err };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
