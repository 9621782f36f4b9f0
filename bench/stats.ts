/** Small statistics and formatting helpers for the benchmark tables. */

/**
 * The median of some numbers (the mean of the middle two for an even count).
 *
 * @param values The numbers; NaN when empty.
 * @returns The median.
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Per-round ratios a[i] / b[i] of two interleaved series.
 *
 * @param a The numerators, one per round.
 * @param b The denominators, one per round.
 * @returns One ratio per round present in both.
 */
export function pairwise(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) out.push(a[i]! / b[i]!);
  return out;
}

/**
 * A rate with thousands separators and no decimals: `58,123`.
 *
 * @param value The number.
 * @returns The text.
 */
export function formatRate(value: number): string {
  if (!Number.isFinite(value)) return "-";
  return Math.round(value).toLocaleString("en-US");
}

/**
 * A duration in milliseconds, with a unit that keeps it short: `850us`, `1.23ms`, `1.50s`.
 *
 * @param ms The duration.
 * @returns The text.
 */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  if (ms < 1) return `${Math.round(ms * 1000)}us`;
  if (ms < 1000) return `${ms.toFixed(2)}ms`;
  return `${(ms / 1000).toFixed(2)}s`;
}

/**
 * A ratio with two decimals.
 *
 * @param value The ratio.
 * @returns The text.
 */
export function formatRatio(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : "-";
}

/**
 * Lays out rows as a plain-text table, columns padded; numbers (and `-`) right-aligned.
 *
 * @param header The column titles.
 * @param rows The cells.
 * @returns The table, lines joined with newlines.
 */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, col) => Math.max(...all.map((row) => (row[col] ?? "").length)));
  const numeric = header.map((_, col) =>
    rows.every((row) => /^[-\d.,]+(us|ms|s|x|%)?$|^-$/.test(row[col] ?? ""))
  );
  const line = (row: readonly string[]) =>
    row.map((cell, col) => numeric[col] ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!))
      .join("  ").trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(line)].join("\n");
}
