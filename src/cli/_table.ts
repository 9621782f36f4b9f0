/**
 * Lays out rows as aligned columns, the header first.
 *
 * @param header The column titles.
 * @param rows The rows (as many cells as titles).
 * @returns The lines, indented by two spaces, joined with newlines.
 */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const indent = "  ";
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    indent + cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i]!)))
      .join("  ");
  return [line(header), ...rows.map(line)].join("\n");
}
