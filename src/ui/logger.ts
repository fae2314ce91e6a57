/**
 * Human output goes to stderr, data to stdout. `main.ts` creates the one console logger and hands
 * it to commands as a plain {@link Logger}; tests pass {@link silentLogger} or a collecting one.
 */
export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string): void;
  /** Only shown with --verbose. */
  debug(msg: string): void;
  /** True when progress output (spinners, throughput) may be drawn. */
  readonly interactive: boolean;
  /** Redraws the one status line at the bottom (terminal only; a no-op otherwise). "" clears it. */
  status(line: string): void;
}

/** What `-v`, `-q` and `--json` ask of stderr. `quiet` shows errors (and their hints) only. */
export interface OutputMode {
  verbose?: boolean;
  quiet?: boolean;
  json?: boolean;
}

export interface LoggerOptions extends OutputMode {
  stream?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
  /** Clock for the timestamps written when stderr is not a terminal. */
  now?: () => Date;
}

/** The logger `main.ts` owns: the mode is known for sure only once the command line is parsed. */
export interface ConsoleLogger extends Logger {
  configure(mode: OutputMode): void;
  readonly mode: Readonly<OutputMode>;
  /** The hint under an error: shown even with --quiet, since it belongs to the error. */
  hint(msg: string): void;
}

/**
 * On a terminal: colour (unless NO_COLOR or TERM=dumb) and a status line. Elsewhere (files, journald,
 * CI logs) every line starts with an ISO-8601 time, so a log read later says when things happened.
 */
export function createLogger(opts: LoggerOptions = {}): ConsoleLogger {
  const out = opts.stream ?? process.stderr;
  const env = opts.env ?? process.env;
  const now = opts.now ?? (() => new Date());
  const terminal = Boolean(out.isTTY);
  const tty = terminal && !env.CI;
  const colour = tty && !env.NO_COLOR && env.TERM !== "dumb";
  const paint = (code: number, s: string) => (colour ? `\u001b[${code}m${s}\u001b[39m` : s);
  const mode: OutputMode = { verbose: opts.verbose ?? false, quiet: opts.quiet ?? false, json: opts.json ?? false };
  let statusShown = false;
  const clear = () => {
    if (statusShown) out.write("\r\u001b[K");
    statusShown = false;
  };
  const write = (s: string) => {
    clear();
    if (terminal) return void out.write(s + "\n");
    // each line of a multi-line message too, so that grep and log shippers keep them dated
    const stamp = `${now().toISOString()} `;
    out.write(stamp + s.replace(/\n/g, `\n${stamp}`) + "\n");
  };
  const interactive = () => tty && !mode.json && !mode.verbose && !mode.quiet;
  return {
    info: (m) => {
      if (!mode.quiet) write(m);
    },
    warn: (m) => {
      if (!mode.quiet) write(paint(33, "warning: ") + m);
    },
    error: (m) => write(paint(31, "error: ") + m),
    hint: (m) => write(`hint: ${m}`),
    debug: (m) => {
      if (mode.verbose && !mode.quiet) write(paint(90, m));
    },
    get interactive() {
      return interactive();
    },
    get mode() {
      return mode;
    },
    configure(next) {
      Object.assign(mode, next);
    },
    status: (line) => {
      if (!interactive()) return;
      clear();
      if (line) {
        out.write(line.slice(0, Math.max(10, (out.columns ?? 80) - 1)));
        statusShown = true;
      }
    },
  };
}

export const silentLogger: Logger = {
  info() {},
  warn() {},
  error() {},
  debug() {},
  interactive: false,
  status() {},
};
