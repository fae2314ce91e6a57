import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseSchedule, nextRunAfter } from "../../../../src/core/schedule/schedule.ts";
import { toOnCalendar, toUtcCron } from "../../../../src/core/schedule/cron-convert.ts";
import { dayMatches, nextMatch, parseCronFields } from "../../../../src/core/schedule/cron.ts";
import { renderCrontab, renderGithubActions, renderSystemd, type PrintContext } from "../../../../src/core/schedule/print.ts";

const ctx: PrintContext = {
  app: "shop", workingDir: "/srv/shop", files: [], bin: ["/usr/local/bin/sdbackup"], logFile: "/var/log/sdbackup-shop.log", envFile: "/etc/sdbackup/shop.env",
  now: new Date("2026-01-10T12:00:00Z"),
};
const berlin = parseSchedule("CRON_TZ=Europe/Berlin 0 3 * * *");

describe("crontab", () => {
  it("renders CRON_TZ, the env file, flock, --app and --log-file; stdout dropped so cron mails only trouble", () => {
    expect(renderCrontab(berlin, ctx)).toBe(
      "# sdbackup: compose project shop (CRON_TZ=Europe/Berlin 0 3 * * *): backup\n" +
      "# Settings and credentials come from /etc/sdbackup/shop.env (create it, chmod 600; sdbackup never writes it):\n" +
      "#   SDBACKUP_TARGET=…\n#   AWS_ACCESS_KEY_ID=…\n#   AWS_SECRET_ACCESS_KEY=…\n#   SDBACKUP_NOTIFY=…\n" +
      "# Everything is logged to /var/log/sdbackup-shop.log; warnings and errors also reach cron's mail (MAILTO).\n" +
      "# CRON_TZ applies to every line below it; cronie honours it, other crons may not (man 5 crontab)\n" +
      "CRON_TZ=Europe/Berlin\n" +
      "0 3 * * * cd /srv/shop && set -a && . /etc/sdbackup/shop.env && set +a && flock -n /tmp/sdbackup-shop.lock " +
      "sh -c '/usr/local/bin/sdbackup backup --app shop --log-file /var/log/sdbackup-shop.log >/dev/null'\n",
    );
  });

  it("quotes paths, -f files, --target and % (inside the sh -c word too)", () => {
    const out = renderCrontab(parseSchedule("*/15 * * * *"), {
      ...ctx, workingDir: "/srv/my shop", files: ["/srv/my shop/compose.yaml", "/srv/it's/o.yaml"], target: "s3://bucket/p?x=1%2", logFile: "/var/log/100%.log",
    });
    expect(out).not.toContain("CRON_TZ");
    const line = out.split("\n").find((l) => l.startsWith("*/15"))!;
    expect(line).toMatch(/^\*\/15 \* \* \* \* cd '\/srv\/my shop' && set -a && \. \/etc\/sdbackup\/shop\.env && set \+a && flock -n \/tmp\/sdbackup-shop\.lock sh -c '/);
    expect(line.replace(/\\%/g, "")).not.toContain("%");
    // what the outer sh hands to `sh -c` once cron has turned \% back into %
    const job = execFileSync("sh", ["-c", `printf '%s' ${line.slice(line.indexOf(" sh -c ") + 7).replace(/\\%/g, "%")}`], { encoding: "utf8" });
    expect(job).toBe(
      "/usr/local/bin/sdbackup backup --app shop -f '/srv/my shop/compose.yaml' -f '/srv/it'\\''s/o.yaml' " +
      "--target 's3://bucket/p?x=1%2' --log-file '/var/log/100%.log' >/dev/null",
    );
  });

  it("prunes after the backup when there is a policy, and verifies on its own cadence", () => {
    const out = renderCrontab(parseSchedule("0 3 * * *"), { ...ctx, target: "/srv/b", prune: ["--keep-daily", "7"], verify: { schedule: parseSchedule("CRON_TZ=UTC 0 5 * * 0"), args: [] } });
    const lines = out.split("\n");
    expect(lines).toContain("#   SDBACKUP_NOTIFY=…");
    expect(lines).not.toContain("#   AWS_ACCESS_KEY_ID=…");
    expect(lines.find((l) => l.startsWith("0 3 "))).toContain(
      "sh -c '/usr/local/bin/sdbackup backup --app shop --target /srv/b --log-file /var/log/sdbackup-shop.log >/dev/null && " +
      "/usr/local/bin/sdbackup prune --app shop --target /srv/b --keep-daily 7 --log-file /var/log/sdbackup-shop.log >/dev/null'",
    );
    expect(lines.slice(-3)).toEqual([
      "CRON_TZ=UTC",
      "0 5 * * 0 cd /srv/shop && set -a && . /etc/sdbackup/shop.env && set +a && flock -n /tmp/sdbackup-shop.lock sh -c " +
      "'/usr/local/bin/sdbackup verify --app shop --target /srv/b --log-file /var/log/sdbackup-shop.log >/dev/null'",
      "",
    ]);
  });
});

describe("systemd", () => {
  it("renders a oneshot service and a persistent timer", () => {
    const { service, timer } = renderSystemd(berlin, ctx);
    expect(service).toBe([
      "# /etc/systemd/system/sdbackup-shop.service",
      "[Unit]",
      "Description=sdbackup: backup compose project shop",
      "Wants=network-online.target",
      "After=network-online.target docker.service",
      "",
      "[Service]",
      "# A oneshot unit counts as starting until the last step exits, and the timer does not start a",
      "# second copy meanwhile: runs never overlap, so no flock is needed. A step that fails (exit 1, or",
      "# 3 for a partial backup) stops the rest and marks the unit failed (systemctl status sdbackup-shop).",
      "Type=oneshot",
      "WorkingDirectory=/srv/shop",
      "# credentials and settings (SDBACKUP_TARGET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, SDBACKUP_NOTIFY); create it, chmod 600",
      "EnvironmentFile=/etc/sdbackup/shop.env",
      "ExecStart=/usr/local/bin/sdbackup backup --app shop",
      "",
    ].join("\n"));
    expect(timer).toBe([
      "# /etc/systemd/system/sdbackup-shop.timer",
      "# enable with: systemctl daemon-reload && systemctl enable --now sdbackup-shop.timer",
      "[Unit]",
      "Description=sdbackup schedule for compose project shop (CRON_TZ=Europe/Berlin 0 3 * * *)",
      "",
      "[Timer]",
      "OnCalendar=*-*-* 03:00:00 Europe/Berlin",
      "# after downtime, run once for the missed time(s)",
      "Persistent=true",
      "",
      "[Install]",
      "WantedBy=timers.target",
      "",
    ].join("\n"));
  });

  it("escapes % and $ and quotes for ExecStart", () => {
    const { service } = renderSystemd(berlin, { ...ctx, workingDir: "/srv/50%", files: ['/srv/a "b"/$x.yaml'] });
    expect(service).toContain("WorkingDirectory=/srv/50%%\n");
    expect(service).toContain('ExecStart=/usr/local/bin/sdbackup backup --app shop -f "/srv/a \\"b\\"/$$x.yaml"\n');
  });

  it("produces units that systemd-analyze verify accepts", () => {
    const dir = mkdtempSync(join(tmpdir(), "sdbackup-units-"));
    try {
      for (const expr of ["CRON_TZ=Europe/Berlin 0 3 * * *", "5 4 1 * mon", "*/10 8-18 * jan-jun 1-5"]) {
        const envFile = join(dir, "shop.env");
        writeFileSync(envFile, "");
        const units = renderSystemd(parseSchedule(expr), { ...ctx, bin: ["/bin/true"], workingDir: "/", envFile, prune: [], verify: { schedule: parseSchedule("0 5 * * 0"), args: [] } });
        const files = { "sdbackup-shop.service": units.service, "sdbackup-shop.timer": units.timer, "sdbackup-shop-verify.service": units.verify!.service, "sdbackup-shop-verify.timer": units.verify!.timer };
        for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
        expect(units.service.match(/^ExecStart=.*$/gm)).toEqual(["ExecStart=/bin/true backup --app shop", "ExecStart=/bin/true prune --app shop"]);
        const r = spawnSync("systemd-analyze", ["verify", ...Object.keys(files).map((f) => join(dir, f))], { encoding: "utf8" });
        expect(r.error, "systemd-analyze must be installed (apt-get install systemd)").toBeUndefined();
        expect({ status: r.status, stderr: r.stderr }, expr).toEqual({ status: 0, stderr: "" });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("OnCalendar conversion", () => {
  it.each([
    ["0 3 * * *", ["*-*-* 03:00:00"]],
    ["CRON_TZ=Europe/Berlin 30 2 * * *", ["*-*-* 02:30:00 Europe/Berlin"]],
    ["*/15 9-17 * * mon-fri", ["Mon..Fri *-*-* 09..17:00/15:00"]],
    ["0,30 * * * *", ["*-*-* *:00,30:00"]],
    ["0-10 */6 * * *", ["*-*-* 00/6:00..10:00"]],
    ["5-50/15 8,12,18 * * *", ["*-*-* 08,12,18:05/15:00"]],
    ["0 3 * * 1,3", ["Mon,Wed *-*-* 03:00:00"]],
    ["30 2 1,15 * *", ["*-*-01,15 02:30:00"]],
    ["0 0 1 */3 *", ["*-01/3-01 00:00:00"]],
    ["0 3 * * 1-3,5", ["Mon..Wed,Fri *-*-* 03:00:00"]],
    ["0 3 * * 5-7", ["Sun,Fri,Sat *-*-* 03:00:00"]],
    ["0 3 1 * mon", ["*-*-01 03:00:00", "Mon *-*-* 03:00:00"]],
    ["0 3 */2 * mon", ["Mon *-*-01/2 03:00:00"]],
    ["0 0 29 2 *", ["*-02-29 00:00:00"]],
  ])("%s → %j", (expr, expected) => expect(toOnCalendar(parseSchedule(expr))).toEqual(expected));

  // systemd itself is the oracle: its next elapses must be the runs sdbackup computes.
  it.each(["*/15 9-17 * * mon-fri", "0-10 */6 * * *", "5-50/15 8,12,18 * * *", "0 0 1 */3 *", "0 3 * * 5-7", "0 3 1 * mon", "0 3 */2 * mon", "7 4 31 * *"])(
    "systemd-analyze calendar agrees for %s",
    (expr) => {
      const schedule = parseSchedule(`CRON_TZ=UTC ${expr}`);
      const base = new Date("2026-01-10T12:00:00Z").getTime();
      for (const spec of toOnCalendar(schedule)) expect(spec).toMatch(/ UTC$/);
      const elapses = toOnCalendar(schedule).flatMap((spec) => systemdElapses(spec, "2026-01-10 12:00:00 UTC", 12));
      const systemd = [...new Set(elapses)].sort().slice(0, 12);
      const ours: string[] = [];
      for (let t = base; ours.length < 12; ) ours.push(new Date((t = nextRunAfter(schedule.fields, "UTC", t))).toISOString());
      expect(systemd).toEqual(ours);
    },
  );
});

describe("GitHub Actions", () => {
  const now = new Date("2026-01-10T12:00:00Z");
  it.each([
    ["0 3 * * *", "0 3 * * *", true],
    ["CRON_TZ=UTC 0 3 * * mon", "0 3 * * mon", true],
    ["CRON_TZ=Asia/Tokyo 30 4 * * *", "30 19 * * *", true],
    ["CRON_TZ=Asia/Tokyo 0 3 * * mon", "0 18 * * 0", true],
    ["CRON_TZ=Asia/Tokyo 0 3 * * sat,sun", "0 18 * * 5,6", true],
    ["CRON_TZ=Asia/Tokyo 0 3,12 * * mon", "0 3,18 * * *", false],
    ["CRON_TZ=Asia/Tokyo 0 3 1 * *", "0 18 * * *", false],
    ["CRON_TZ=America/New_York 0 22 * * fri", "0 2,3 * * 6", false],
    ["CRON_TZ=Asia/Tokyo 0 12 * * mon", "0 3 * * mon", true],
    ["CRON_TZ=Europe/Berlin 0 3 * * *", "0 1,2 * * *", false],
    ["CRON_TZ=Europe/Berlin */15 * * * *", "*/15 * * * *", false],
    ["CRON_TZ=Asia/Kolkata 0 3 * * *", "30 21 * * *", true],
    ["CRON_TZ=Asia/Kolkata 0 3,4 * * *", "30 21,22 * * *", true],
    ["CRON_TZ=Asia/Kolkata 15,45 3 * * *", "15,45 21,22 * * *", false],
  ])("%s → %s (exact: %s)", (expr, cron, exact) => {
    const utc = toUtcCron(parseSchedule(expr), now);
    expect({ cron: utc.cron, exact: utc.exact }).toEqual({ cron, exact });
    if (!exact) expect(utc.note).toMatch(/--if-due runs only the due wake-up/);
  });

  it.each(["CRON_TZ=Europe/Berlin 0 3 * * *", "CRON_TZ=Asia/Tokyo 0 3 * * sat,sun", "CRON_TZ=America/New_York 0 22 * * fri", "CRON_TZ=Asia/Kolkata 15,45 3 * * *", "CRON_TZ=Australia/Lord_Howe 0 2 1 * *", "CRON_TZ=America/Sao_Paulo 0 0 * * mon"])(
    "%s: the UTC cron wakes at every run of the year (and only then when exact)",
    (expr) => {
      const schedule = parseSchedule(expr);
      const utc = toUtcCron(schedule, now);
      const fields = parseCronFields(utc.cron);
      const end = now.getTime() + 366 * 86_400_000;
      const runs: number[] = [];
      for (let t = nextRunAfter(schedule.fields, schedule.timezone!, now.getTime()); t < end; t = nextRunAfter(schedule.fields, schedule.timezone!, t)) runs.push(t);
      for (const t of runs) {
        const d = new Date(t);
        const hit = dayMatches(fields, t) && fields.hour.includes(d.getUTCHours()) && fields.minute.includes(d.getUTCMinutes());
        expect(hit, `${new Date(t).toISOString()} is a run of ${expr} but not of ${utc.cron}`).toBe(true);
      }
      if (utc.exact) {
        let count = 0;
        for (let t = nextMatch(fields, now.getTime()); t !== undefined && t < end; t = nextMatch(fields, t)) count++;
        expect(count).toBe(runs.length);
      }
    },
  );

  it("renders a workflow that runs backup --if-due on a self-hosted runner, serialised", () => {
    const yaml = renderGithubActions(berlin, { ...ctx, ifDueCron: "CRON_TZ=Europe/Berlin 0 3 * * *" });
    expect(yaml).toContain('    # 0 3 * * * in Europe/Berlin (UTC+1, UTC+2); wakes at the UTC time of each offset: --if-due runs only the due wake-up\n    - cron: "0 1,2 * * *"\n');
    expect(yaml).toContain("concurrency:\n  group: sdbackup-shop\n  cancel-in-progress: false\n");
    expect(yaml).toContain("    runs-on: self-hosted\n");
    expect(yaml).toContain(`        working-directory: "/srv/shop"\n        run: /usr/local/bin/sdbackup backup --app shop --if-due --cron 'CRON_TZ=Europe/Berlin 0 3 * * *'\n`);
    expect(yaml).toContain("      SDBACKUP_NOTIFY: ${{ secrets.SDBACKUP_NOTIFY }}\n");
    expect(yaml).not.toContain("prune");
  });

  it("adds a prune step, and a verify job on its own cron selected by github.event.schedule", () => {
    const yaml = renderGithubActions(parseSchedule("0 3 * * *"), { ...ctx, prune: [], verify: { schedule: parseSchedule("0 5 * * 0"), args: ["--restore-test"] } });
    expect(yaml).toContain('    - cron: "0 3 * * *"\n');
    expect(yaml).toContain('    - cron: "0 5 * * 0"\n');
    expect(yaml).toContain("  backup:\n    if: github.event.schedule != '0 5 * * 0'\n");
    expect(yaml).toContain('      - name: prune\n        working-directory: "/srv/shop"\n        run: /usr/local/bin/sdbackup prune --app shop\n');
    expect(yaml).toContain("  verify:\n    if: github.event.schedule == '0 5 * * 0'\n");
    expect(yaml).toContain("        run: /usr/local/bin/sdbackup verify --app shop --restore-test\n");
  });
});

// --- helpers ---

/** `systemd-analyze calendar` next elapses as ISO strings (UTC). */
function systemdElapses(spec: string, base: string, n: number): string[] {
  const out = execFileSync("systemd-analyze", ["calendar", `--iterations=${n}`, `--base-time=${base}`, spec], { encoding: "utf8", env: { ...process.env, TZ: "UTC" } });
  return [...out.matchAll(/(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d) UTC/g)].map((m) => `${m[1]}T${m[2]}.000Z`);
}
