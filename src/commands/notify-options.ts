// The monitoring flags of backup, prune, verify and restore: notifications, metrics, report, log file.
import { Option, type Command } from "commander";
import { NOTIFY_ON } from "../notify/index.ts";
import { collect } from "./options.ts";

export { reported, type ReportOptions } from "../core/report/reported.ts";

export function addReportOptions(cmd: Command): Command {
  return cmd
    .option("--notify <url>", "tell someone how the run went (repeatable; also SDBACKUP_NOTIFY): https://…, healthchecks+https://…, ntfy://host/topic", collect)
    .addOption(new Option("--notify-on <when>", "which runs notify (healthchecks pings every run)").choices(NOTIFY_ON).default("partial", "failure and partial"))
    .option("--metrics-file <path>", "write Prometheus textfile metrics (e.g. /var/lib/node_exporter/textfile/sdbackup.prom)")
    .option("--report <file>", "write the run's JSON document to this file")
    .option("--log-file <path>", "append timestamped log lines to this file; stderr then shows only warnings and errors");
}
