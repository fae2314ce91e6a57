/**
 * Human output goes to stderr, data to stdout. A Logger is created once in `cli.ts` and handed to
 * commands; tests pass {@link silentLogger} or a collecting one.
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

export interface LoggerOptions {
  verbose?: boolean;
  json?: boolean;
  stream?: NodeJS.WriteStream;
  env?: NodeJS.ProcessEnv;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const out = opts.stream ?? process.stderr;
  const env = opts.env ?? process.env;
  const tty = Boolean(out.isTTY) && !env.CI;
  const colour = tty && !env.NO_COLOR && env.TERM !== "dumb";
  const paint = (code: number, s: string) => (colour ? `\u001b[${code}m${s}\u001b[39m` : s);
  const interactive = tty && !opts.json && !opts.verbose;
  let statusShown = false;
  const clear = () => {
    if (statusShown) out.write("\r\u001b[K");
    statusShown = false;
  };
  const write = (s: string) => {
    clear();
    out.write(s + "\n");
  };
  return {
    info: (m) => write(m),
    warn: (m) => write(paint(33, "warning: ") + m),
    error: (m) => write(paint(31, "error: ") + m),
    debug: (m) => {
      if (opts.verbose) write(paint(90, m));
    },
    interactive,
    status: (line) => {
      if (!interactive) return;
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
