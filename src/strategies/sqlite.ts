import type { Strategy } from "./types.ts";
import { LABEL, splitList } from "../core/labels.ts";
import { expectMagic } from "./validate.ts";
import { notImplemented } from "./shared.ts";

/** SQLite is never guessed from an image: a label names the strategy and the database files. */
export const sqlite = {
  name: "sqlite",
  ext: "sqlite",
  description: "online .backup of SQLite database files (or a paused copy); restored with the service stopped",
  needsRunning: true,
  matchImage: () => 0,

  inspect(_service, labels) {
    const paths = splitList(labels[LABEL.paths]);
    const warnings = paths.length ? [] : [`set ${LABEL.paths} to the database file(s), e.g. /data/app.db`];
    return { paths, warnings };
  },

  async backup() {
    return notImplemented("sqlite");
  },

  async restore() {
    return notImplemented("sqlite");
  },

  validate: (input) => expectMagic(input, [Buffer.from("SQLite format 3\0", "latin1")], "an SQLite database"),
} satisfies Strategy;
