import { join } from "node:path";
import { describeStrategy } from "./conformance.ts";
import { mysqlFixture } from "./mysql/fixture.ts";

// Docker here is local: auto dumps over the fast transport (mysql-family/beside.ts), asserted per item.
const dir = join(import.meta.dirname, "mariadb");

// Root password in plain env, no database configured: `--all-databases`, the mysql schema included.
describeStrategy({ ...mysqlFixture({
  strategy: "mariadb",
  compose: join(dir, "compose.yaml"),
  client: "mariadb",
  user: "root",
  password: "$MARIADB_ROOT_PASSWORD",
  database: "shop",
  breakWith: "orphan-tablespace",
  secret: "Maria-Conformance-Secret-1",
  wrongCredentials: join(dir, "wrong-credentials.yaml"),
  missingTool: { override: join(dir, "missing-tool.yaml"), tool: "mariadb-dump" },
}), transport: "fast" });
