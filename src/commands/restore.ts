import { Option, type Command } from "commander";
import { createInterface } from "node:readline/promises";
import type { CommandRegistrar } from "./options.ts";
import { addCommonOptions, addStallTimeoutOption, addTargetOption, addTimeoutOption, type CommonOptions } from "./options.ts";
import { elapsed, nonEmpty, nonEmptyList } from "./validate.ts";
import { addReportOptions, reported, type ReportOptions } from "./notify-options.ts";
import type { Deps } from "../deps.ts";
import { ConfigError, ExitCode } from "../errors.ts";
import { openProject } from "../core/project/open-project.ts";
import { containerFor, type PlanItem } from "../core/project/plan.ts";
import { detectProject } from "../core/project/detect.ts";
import { parseSetFlag, selectSet, selectSets } from "../manifest/select.ts";
import { listSets } from "../manifest/store.ts";
import { locateItems, setCoverage } from "../core/restore/coverage.ts";
import { runRestorePlan, type RestoreResult } from "../core/restore/run-restore.ts";
import { addDecryptOptions, resolveKeyRing, type DecryptOptions } from "./encryption-options.ts";
import { getStrategy } from "../strategies/index.ts";
import { openTargetFlag, redactTarget } from "../targets/index.ts";
import type { Target } from "../targets/types.ts";
import type { ComposeProject } from "../compose/model.ts";
import type { ManifestItem } from "../manifest/schema.ts";
import { renderTable } from "../ui/table.ts";
import { parseElapsed } from "../runtime/duration.ts";
import { TRANSPORT_MODES } from "../docker/transport.ts";
import type { TransportMode } from "../docker/types.ts";

export interface RestoreOptions extends CommonOptions, DecryptOptions {
  set?: string;
  service?: string[];
  target?: string;
  yes?: boolean;
  dryRun?: boolean;
  hookTimeout?: string;
  stallTimeout?: string;
  /** Only this database (with the roles it may need) of services stored per database. */
  database?: string;
  /** `--wait`: how long each database may take to accept connections before anything is touched. */
  wait?: string;
  /** `--from-app`: restore sets stored under this project into the current one. */
  fromApp?: string;
  /** How restore bytes reach the database (docker/transport.ts). */
  transport?: TransportMode;
}

export interface RestorePlanResult {
  project: string;
  set: string;
  dryRun: true;
  items: { service: string; strategy: string; key: string; container: string | null }[];
  /** As in a real run: services of the project this set lacks (the run would exit 3). */
  missing?: { service: string; heldBy: string | null }[];
}

export async function runRestore(opts: RestoreOptions, deps: Deps, confirm: (question: string) => Promise<boolean>): Promise<RestoreResult | RestorePlanResult> {
  parseSetFlag(opts.set);
  const { project, containers, docker } = await openProject(opts, deps);
  const target = (await openTargetFlag(opts.target, deps)).target;
  const services = opts.service ?? [];
  const source = opts.fromApp ?? project.name;
  await checkServiceNames(services, project, source, target, opts.set, deps.signal);
  const sets = await listSets(target, source, deps.signal);
  const [found] = selectSets(sets, { set: opts.set, project: source, services, display: target.display });
  const manifest = locateItems(found!);
  // --service narrows on purpose; a whole-project restore names what the set lacks (exit 3).
  const coverage = setCoverage(sets, found!, services.length ? [] : project.services.map((s) => s.name), parseSetFlag(opts.set) === "latest");
  for (const note of coverage.notes) deps.log.warn(note);
  for (const m of coverage.missing) deps.log.warn(missingLine(m, found!.set));
  const inServices = manifest.items.filter((i) => services.length === 0 || services.includes(i.service));
  const chosen = opts.database === undefined ? inServices : onlyDatabase(inServices, opts.database);
  if (opts.dryRun) {
    return {
      project: project.name, set: manifest.set, dryRun: true,
      items: chosen.map((i) => ({ service: i.service, strategy: i.strategy, key: i.key, container: containerFor(i.service, containers)?.name ?? null })),
      ...(coverage.missing.length ? { missing: coverage.missing } : {}),
    };
  }
  // Today's detection, not the set's word, says which paths are the service's (core/restore/check-paths.ts).
  const today = new Map(detectProject(project).map((d) => [d.service, d.paths]));
  const items = chosen.map((item) => {
    const container = containerFor(item.service, containers);
    if (!container) throw new ConfigError(`service ${item.service} has no container to restore into`, { hint: "start the project first (docker compose up -d)" });
    const service = project.services.find((s) => s.name === item.service) ?? {
      name: item.service, environment: {}, labels: {}, volumes: [], secrets: [], profiles: [],
    };
    const plan: PlanItem = {
      service, container, strategy: getStrategy(item.strategy),
      detection: { strategy: item.strategy, source: "label", confidence: 1, paths: today.get(item.service) ?? [], warnings: [] },
    };
    return { item, plan };
  });
  const names = items.map((i) => i.item.service).join(", ");
  if (!opts.yes && !(await confirm(`Restore set ${manifest.set} into ${names} of project ${project.name}? Their current data will be replaced.`))) {
    throw new ConfigError("restore not confirmed", { hint: "pass --yes to restore without asking" });
  }
  const result = await runRestorePlan({
    keys: await resolveKeyRing(opts, deps),
    manifest, items, target, docker, services: project.services, containers,
    waitMs: parseElapsed(opts.wait ?? "60s", "--wait"),
    hookTimeoutMs: parseElapsed(opts.hookTimeout ?? "5m", "--hook-timeout"), signal: deps.signal, log: deps.log,
    stallTimeoutMs: parseElapsed(opts.stallTimeout ?? "5m", "--stall-timeout"),
    transport: opts.transport ?? "auto",
  });
  const unfinished = [...new Set(result.items.filter((i) => i.status !== "ok").map((i) => i.service))];
  return {
    ...result, project: project.name,
    ...(source !== project.name ? { from: source } : {}),
    ...(coverage.missing.length ? { missing: coverage.missing } : {}),
    ...(coverage.notes.length ? { notes: coverage.notes } : {}),
    ...(result.status === "ok" && coverage.missing.length ? { status: "partial" as const } : {}),
    ...(unfinished.length ? { finish: finishCommand(opts, manifest.set, unfinished) } : {}),
  };
}

export const register: CommandRegistrar = (program: Command, deps: Deps, setExit) => {
  const cmd = program.command("restore").description("restore a backup set into the project's running services");
  addTimeoutOption(addStallTimeoutOption(addDecryptOptions(addReportOptions(addTargetOption(addCommonOptions(cmd))))))
    .option("--set <id>", "set id, or latest", "latest")
    .addOption(new Option("--service <name>", "only this service (repeatable)").argParser(nonEmptyList("--service")))
    .option("-y, --yes", "do not ask for confirmation (required without a terminal)")
    .addOption(new Option("--hook-timeout <duration>", "timeout for each restore.pre/.post hook (e.g. 90s, 5m)").default("5m").argParser(elapsed("--hook-timeout")))
    .option("--dry-run", "show what would be restored where")
    .addOption(new Option("--database <name>", "only this database (and the missing roles) of a service stored per database").argParser(nonEmpty("--database")))
    .addOption(new Option("--wait <duration>", "how long each database may take to accept connections before anything is restored").default("60s").argParser(elapsed("--wait")))
    .addOption(new Option("--from-app <name>", "restore sets stored under this project into this one (staging copy, new host)").argParser(nonEmpty("--from-app")))
    .addOption(new Option("--transport <kind>", "how restore bytes reach the database: fast (helper container + FIFO, local engines), exec, or auto").choices([...TRANSPORT_MODES]).default("auto"))
    .action(async (opts: RestoreOptions & ReportOptions) => {
      const result = await reported("restore", opts, deps, (d) => runRestore(opts, d, (q) => askOnTerminal(q, d)));
      if (opts.json) deps.out(JSON.stringify(result, null, 2));
      else if ("dryRun" in result) {
        deps.out(`would restore set ${result.set} of project ${result.project}:`);
        deps.out(renderTable(["SERVICE", "STRATEGY", "CONTAINER", "ARTIFACT"], result.items.map((i) => [i.service, i.strategy, i.container ?? "(none)", i.key])));
        for (const m of result.missing ?? []) deps.out(missingLine(m, result.set));
      } else {
        deps.out(`set ${result.set}: ${result.status}`);
        deps.out(renderTable(["SERVICE", "STRATEGY", "STATUS"], result.items.map((i) => [i.service, i.strategy, i.status === "failed" ? `failed: ${i.error ?? ""}` : i.status.replace("-", " ")])));
        for (const m of result.missing ?? []) deps.out(missingLine(m, result.set));
        if (result.finish) deps.out(`to restore the rest: ${result.finish}`);
      }
      if (!("dryRun" in result) && result.status !== "ok") setExit(result.status === "partial" ? ExitCode.partial : ExitCode.failed);
    });
};

/**
 * `--service` must name a service of the project or of the set being restored; a typo is a usage
 * error listing the names there are, not "no set holds it".
 */
async function checkServiceNames(names: readonly string[], project: ComposeProject, source: string, target: Target, set: string | undefined, signal: AbortSignal): Promise<void> {
  const known = new Set(project.services.map((s) => s.name));
  if (names.every((n) => known.has(n))) return;
  const inSet = await selectSet(target, source, set, [], signal).then((m) => m.items.map((i) => i.service), () => []);
  for (const s of inSet) known.add(s);
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length === 0) return;
  throw new ConfigError(`no service ${unknown.map((n) => `"${n}"`).join(", ")} in project ${project.name}${inSet.length ? " or its set" : ""}`, {
    hint: `services: ${[...known].sort().join(", ") || "none"}`,
  });
}

async function askOnTerminal(question: string, deps: Deps): Promise<boolean> {
  if (!deps.stdinIsTTY) {
    throw new ConfigError("restore replaces data and there is no terminal to confirm on", { hint: "pass --yes to confirm" });
  }
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${question} [y/N] `, { signal: deps.signal });
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

/** The artifact of one database, after the globals (roles) of the same service: owners must exist first. */
function onlyDatabase(items: ManifestItem[], name: string): ManifestItem[] {
  const db = items.filter((i) => i.part?.kind === "database" && i.part.name === name);
  if (db.length === 0) {
    const known = items.filter((i) => i.part?.kind === "database").map((i) => `${i.service}/${i.part!.name}`);
    throw new ConfigError(`no database "${name}" in this set`, { hint: known.length ? `databases: ${known.join(", ")}` : "this set has no per-database artifacts" });
  }
  const services = new Set(db.map((i) => i.service));
  return items.filter((i) => services.has(i.service) && i.part?.kind === "globals").concat(db);
}

/** "db: not in set X, so not restored; its newest backup is in set Y (restore it with --set Y --service db)" */
function missingLine(m: { service: string; heldBy: string | null }, set: string): string {
  const where = m.heldBy ? `its newest backup is in set ${m.heldBy} (restore it with --set ${m.heldBy} --service ${m.service})` : "no complete set holds it";
  return `${m.service}: not in set ${set}, so not restored; ${where}`;
}

/** The command that restores `services` of the same set the same way: what a failed run left. */
function finishCommand(opts: RestoreOptions, set: string, services: readonly string[]): string {
  const q = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`);
  const args = ["sdbackup", "restore", "--set", set, ...services.flatMap((s) => ["--service", s])];
  for (const f of opts.file ?? []) args.push("-f", f);
  if (opts.app) args.push("--app", opts.app);
  if (opts.fromApp) args.push("--from-app", opts.fromApp);
  if (opts.target) args.push("--target", redactTarget(opts.target));
  return [...args.map(q), "--yes"].join(" ");
}
