// How a MySQL/MariaDB dump runs beside the server in a fast-transport helper (docker/transport.ts):
// over TCP to 127.0.0.1 in the server's network namespace, its password in an option file in the
// helper's private directory (the one written into the server's container is not visible there).
import { HELPER_DIR, type DumpOptions } from "../../docker/types.ts";
import type { RunContext } from "../types.ts";

const ROOT_HOST_KEYS = ["MARIADB_ROOT_HOST", "MYSQL_ROOT_HOST"] as const;
const OPTION_FILE = "client.cnf";

/**
 * The helper's command and files, given `argvFor(optionFile)` (the dump command reading that option
 * file, `--defaults-extra-file` first) and the file's text; undefined where TCP may not log the
 * account in: root limited by the image's root-host variable to another host than `%` (say
 * `localhost`). The images create every other account, and root by default, for `%`.
 */
export function besideServer(
  ctx: RunContext, user: string, argvFor: (optionFile?: string) => string[], options: string | undefined,
): Required<Pick<DumpOptions, "helperEnv" | "helperArgv" | "helperFiles">> | undefined {
  const env = ctx.container.env;
  const rootHost = ROOT_HOST_KEYS.map((k) => env[k]).find((v) => v !== undefined);
  if (user === "root" && rootHost !== undefined && rootHost !== "%") return undefined;
  const port = env.MYSQL_TCP_PORT;
  const tcp = ["--protocol=TCP", "--host=127.0.0.1", ...(port ? [`--port=${port}`] : [])];
  const [tool, ...rest] = argvFor(options === undefined ? undefined : `${HELPER_DIR}/${OPTION_FILE}`);
  const lead = options === undefined ? [] : rest.splice(0, 1); // --defaults-extra-file must come first
  return { helperEnv: {}, helperArgv: [tool!, ...lead, ...tcp, ...rest], helperFiles: options === undefined ? {} : { [OPTION_FILE]: options } };
}
