import { join } from "node:path";
import { describeStrategy } from "./conformance.ts";
import { mysqlFixture } from "./mysql/fixture.ts";

// Docker here is local: auto dumps over the fast transport (mysql-family/beside.ts), asserted per item.
const dir = join(import.meta.dirname, "mysql");

// Root password from a file secret, one database: `--databases appdb --add-drop-database`.
describeStrategy({ ...mysqlFixture({
  strategy: "mysql",
  compose: join(dir, "compose.yaml"),
  client: "mysql",
  user: "root",
  password: "$(cat /run/secrets/root_password)",
  database: "appdb",
  breakWith: "stray-file",
  secret: "My-Conformance-Secret-1",
  wrongCredentials: join(dir, "wrong-credentials.yaml"),
  missingTool: { override: join(dir, "missing-tool.yaml"), tool: "mysqldump" },
}), transport: "fast" });

// Root's password is unknown: the application user (password from a file secret) dumps its database.
describeStrategy({ ...mysqlFixture({
  strategy: "mysql",
  name: "mysql (application user)",
  compose: join(dir, "app-user.yaml"),
  client: "mysql",
  user: "app",
  password: "$(cat /run/secrets/app_password)",
  database: "appdb",
  secret: "My-App-User-Secret-2",
}), transport: "fast" });
