// A one-line trend of numbers, for terminals: ▁▂▃▄▅▆▇█ scaled to the largest value, · where a value is missing.

const BARS = "▁▂▃▄▅▆▇█";

/** Scaled from 0 (not from the minimum), so a drop to half looks like half; 0 bytes is a blank. */
export function sparkline(values: readonly (number | null)[]): string {
  const max = Math.max(0, ...values.filter((v): v is number => v !== null));
  return values
    .map((v) => {
      if (v === null) return "·";
      if (v <= 0 || max === 0) return " ";
      return BARS[Math.min(BARS.length - 1, Math.max(0, Math.ceil((v / max) * BARS.length) - 1))]!;
    })
    .join("");
}
