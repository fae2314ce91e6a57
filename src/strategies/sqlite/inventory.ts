import { mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable } from "node:stream";
import type { Inventory } from "../types.ts";
import { IntegrityError } from "../../errors.ts";
import { readSqliteTar } from "./artifact.ts";

/**
 * A sqlite artifact's inventory without a container: each database is spooled to a private temp
 * directory (its `-wal`/`-journal` beside it, so SQLite applies them), `PRAGMA integrity_check`
 * must say ok, then every table's row count (`/data/app.db:users`). Node's built-in SQLite reads it.
 */
export async function sqliteInventory(input: Readable, paths: readonly string[]): Promise<Inventory> {
  const dir = await mkdtemp(join(tmpdir(), "sdbackup-sqlite-"));
  try {
    const members = await readSqliteTar(input, paths, dir);
    const { DatabaseSync } = await import("node:sqlite");
    const counts: Record<string, number> = {};
    for (const db of members.filter((m) => m.suffix === "")) {
      for (const companion of members.filter((m) => m.path === db.path && m.suffix !== "")) await rename(companion.file!, `${db.file!}${companion.suffix}`);
      const conn = new DatabaseSync(db.file!);
      try {
        const check = conn.prepare("PRAGMA integrity_check").all().map((r) => String(Object.values(r)[0]));
        if (check.join() !== "ok") throw new IntegrityError(`${db.path} fails PRAGMA integrity_check: ${check.slice(0, 3).join("; ")}`);
        const tables = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
        for (const { name } of tables as { name: string }[]) {
          const row = conn.prepare(`SELECT count(*) AS n FROM "${name.replace(/"/g, '""')}"`).get() as { n: number };
          counts[`${db.path}:${name}`] = Number(row.n);
        }
      } finally {
        conn.close();
      }
    }
    return { counts, exact: true, how: "PRAGMA integrity_check and row counts of the archived copy" };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
