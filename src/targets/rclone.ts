import type { TargetFactory } from "./types.ts";
import { parseRcloneUrl, redactRclone } from "./rclone/settings.ts";
import { assertRcloneInstalled } from "./rclone/process.ts";
import { createRcloneTarget } from "./rclone/target.ts";

/**
 * Every storage backend rclone knows (SFTP, WebDAV, B2, Azure, GCS, Storj, …) as `rclone:REMOTE:PATH`,
 * by driving rclone (its remote-control daemon). Parsing lives in `rclone/settings.ts`, the daemon
 * in `rclone/process.ts`, its API in `rclone/rc.ts`, the Target in `rclone/target.ts`.
 */
export const rcloneFactory: TargetFactory = {
  schemes: ["rclone"],
  redact: redactRclone,
  async create(url, env, opts = {}) {
    const settings = parseRcloneUrl(url, env);
    assertRcloneInstalled(settings.binary, env);
    return createRcloneTarget(settings, env, opts);
  },
};
