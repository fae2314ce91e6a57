import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration files mostly wait on containers, so two files at a time keep 2 cores busy
    // without starving the engine.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
