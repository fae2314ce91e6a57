// Replaced at build time by esbuild's `define`; the fallback serves tests and `npm run dev`.
declare const __SDBACKUP_VERSION__: string | undefined;
export const VERSION: string = typeof __SDBACKUP_VERSION__ === "string" ? __SDBACKUP_VERSION__ : "0.0.0-dev";
