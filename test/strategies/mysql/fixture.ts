import type { StrategyFixture } from "../conformance.ts";
import type { Stack } from "../../helpers/compose.ts";

/**
 * The MySQL-family conformance fixture, shared by mysql.test.ts and mariadb.test.ts. The data has
 * what a dump can lose: binary bytes (NUL, CR LF, backslash, quote), 4-byte UTF-8, a trigger (and
 * the rows it wrote), a procedure and a function.
 */
export interface MysqlFixtureOptions extends Pick<StrategyFixture, "strategy" | "name" | "compose" | "secret" | "wrongCredentials" | "missingTool"> {
  client: "mysql" | "mariadb";
  user: string;
  /** Shell expression, evaluated in the container, that yields `user`'s password. */
  password: string;
  /** The database the data lives in; created by the seed when the image does not create it. */
  database: string;
  /**
   * How to make a restore fail part-way: a stray file that DROP DATABASE cannot remove (dumps of
   * named databases), or an orphan tablespace file that blocks CREATE TABLE (dumps of everything).
   */
  breakWith?: "stray-file" | "orphan-tablespace";
}

export const SERVICE = "db";

export function mysqlFixture(o: MysqlFixtureOptions): StrategyFixture {
  const sql = (stack: Stack, query: string, tcp = false) =>
    stack.exec(SERVICE, ["sh", "-c", `MYSQL_PWD="${o.password}" exec ${o.client} ${tcp ? "-h 127.0.0.1 " : ""}-u${o.user} --default-character-set=utf8mb4 -N -B`], query);
  const db = o.database;
  const strayFile = `/var/lib/mysql/${db}/not-a-table.txt`;
  const orphan = `/var/lib/mysql/${db}/notes.ibd`;
  return {
    strategy: o.strategy,
    ...(o.name ? { name: o.name } : {}),
    compose: o.compose,
    service: SERVICE,
    ready: (stack) => waitForMysql(() => sql(stack, "SELECT 1", true)),
    seed: (stack) => sql(stack, seedSql(db)),
    snapshot: (stack) => sql(stack, snapshotSql(db)),
    mutate: (stack) =>
      sql(stack, `USE \`${db}\`; DELETE FROM t WHERE id % 3 = 0; UPDATE t SET v = 'x', b = NULL WHERE id < 50; DROP TRIGGER IF EXISTS t_ai; DROP FUNCTION IF EXISTS twice; DELETE FROM audit WHERE id > 900;`),
    ...(o.breakWith === "stray-file" && {
      breakRestore: async (stack: Stack) => void (await stack.exec(SERVICE, ["touch", strayFile])),
      fixRestore: async (stack: Stack) => void (await stack.exec(SERVICE, ["rm", "-f", strayFile])),
    }),
    ...(o.breakWith === "orphan-tablespace" && {
      breakRestore: async (stack: Stack) => {
        await sql(stack, `DROP TABLE \`${db}\`.notes`);
        await stack.exec(SERVICE, ["sh", "-c", `echo junk > ${orphan}`]);
      },
      fixRestore: async (stack: Stack) => void (await stack.exec(SERVICE, ["rm", "-f", orphan])),
    }),
    ...(o.secret ? { secret: o.secret } : {}),
    ...(o.wrongCredentials ? { wrongCredentials: o.wrongCredentials } : {}),
    ...(o.missingTool ? { missingTool: o.missingTool } : {}),
  };
}

/** The official images run a socket-only server while they initialise: only the final one listens on TCP. */
export async function waitForMysql(probe: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 120_000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      await probe();
      return;
    } catch (err) {
      last = (err as Error).message;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(`the server did not accept TCP connections: ${last}`);
}

function seedSql(db: string): string {
  return `
CREATE DATABASE IF NOT EXISTS \`${db}\`;
USE \`${db}\`;
CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(100), b VARBINARY(64), u TEXT) DEFAULT CHARSET utf8mb4;
CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, t_id INT, note VARCHAR(50));
CREATE TABLE notes (id INT PRIMARY KEY, body TEXT);
INSERT INTO notes VALUES (1, 'restored between audit and t');
CREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW INSERT INTO audit (t_id, note) VALUES (NEW.id, 'inserted');
CREATE FUNCTION twice(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
DELIMITER ;;
CREATE PROCEDURE fill(n INT)
BEGIN
  DECLARE i INT DEFAULT 1;
  WHILE i <= n DO
    INSERT INTO t VALUES (i, CONCAT('row ', i), UNHEX(MD5(i)), CONCAT('Zoë 😀 ', i));
    SET i = i + 1;
  END WHILE;
END;;
DELIMITER ;
CALL fill(1000);
INSERT INTO t VALUES (1001, 'tricky', UNHEX('000D0A5C2722FF'), 'tab\\tand\\nnewline');
`;
}

function snapshotSql(db: string): string {
  return `
SET SESSION group_concat_max_len = 16777216;
USE \`${db}\`;
SELECT GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE();
SELECT COUNT(*), MD5(GROUP_CONCAT(id, ':', v, ':', COALESCE(HEX(b), '-'), ':', HEX(u) ORDER BY id SEPARATOR ',')) FROM t;
SELECT COUNT(*), MD5(GROUP_CONCAT(id, ':', t_id, ':', note ORDER BY id)) FROM audit;
SELECT ROUTINE_TYPE, ROUTINE_NAME, MD5(ROUTINE_DEFINITION) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = DATABASE() ORDER BY 1, 2;
SELECT TRIGGER_NAME, MD5(ACTION_STATEMENT) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE() ORDER BY 1;
`;
}
