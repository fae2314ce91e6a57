/** The `simpledeploy.backup.*` labels sdbackup reads (documented in docs/labels.md). */
export const LABEL = {
  strategy: "simpledeploy.backup.strategy",
  paths: "simpledeploy.backup.paths",
  exclude: "simpledeploy.backup.exclude",
  stop: "simpledeploy.backup.stop",
  pause: "simpledeploy.backup.pause",
  databases: "simpledeploy.backup.databases",
  user: "simpledeploy.backup.user",
  passwordEnv: "simpledeploy.backup.password-env",
  retention: "simpledeploy.backup.retention",
  consistent: "simpledeploy.backup.consistent",
  schedule: "simpledeploy.backup.schedule",
  pre: "simpledeploy.backup.pre",
  post: "simpledeploy.backup.post",
  restorePre: "simpledeploy.backup.restore.pre",
  restorePost: "simpledeploy.backup.restore.post",
  hooksOnError: "simpledeploy.backup.hooks.on-error",
  hookTimeout: "simpledeploy.backup.hooks.timeout",
  helperImage: "simpledeploy.backup.helper-image",
  /** age recipients (comma-separated) this service's artifact is encrypted to; public keys only. */
  encryptTo: "simpledeploy.backup.encrypt-to",
} as const;

/** `a, b ,c` → `["a","b","c"]`; empty entries dropped. */
export function splitList(value: string | undefined): string[] {
  return (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
}

export function isTrue(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes|on)$/i.test(value.trim());
}
