/**
 * Line layout for generated code: what `deno fmt` writes at its default width, 80. It keeps a
 * construct on one line when it fits and breaks it one item per line when it does not, so the
 * generator writes exactly those two forms, breaking at 80. Most broken constructs stay broken at
 * a wider setting too, but not all: `deno fmt --line-width 100` joins an import declaration or a
 * class heading of 81 to 100 characters back onto one line. The code is laid out for one width,
 * the default, and docs/codegen.md says so.
 */

/** Generated lines are kept within this width, `deno fmt`'s default. */
export const LINE_WIDTH = 80;

/** How {@linkcode list} closes and indents. */
export interface ListLayout {
  /** The closing bracket and what follows it: `);`. */
  close: string;
  /** The indentation of the line the list starts on. Default none. */
  indent?: string;
  /** Whether broken items end with a comma (not for type arguments). Default true. */
  trailingComma?: boolean;
}

/**
 * `head` items `close`: on one line when it fits, else one item per line (trailing commas for
 * parameter and argument lists, none for type arguments, as `deno fmt` writes them).
 *
 * @param head What comes before the first item, with its opening bracket: `  foo(`.
 * @param items The items.
 * @param layout The closing text and indentation.
 * @returns The text, without a final newline.
 */
export function list(head: string, items: readonly string[], layout: ListLayout): string {
  const { close, indent = "", trailingComma = true } = layout;
  const single = `${head}${items.join(", ")}${close}`;
  if (single.length <= LINE_WIDTH) return single;
  const comma = trailingComma ? "," : "";
  const body = items.map((item, i) => `${indent}  ${item}${i < items.length - 1 ? "," : comma}`);
  return `${head}\n${body.join("\n")}\n${indent}${close}`;
}

/** How {@linkcode operands} joins and ends. */
export interface OperandsLayout {
  /** `|` or `&`. */
  operator: "|" | "&";
  /** The indentation of the line `head` starts. */
  indent: string;
  /** What follows the type: `;`. */
  tail: string;
}

/**
 * `head A | B | C tail`: on one line when it fits, else one member per line with a leading
 * operator (`| A`), the way `deno fmt` breaks a long union or intersection.
 *
 * @param head What comes before the type: `export type X =` or `  name:`.
 * @param members The members.
 * @param layout Operator, indentation, tail.
 * @returns The text, without a final newline.
 */
export function operands(
  head: string,
  members: readonly string[],
  layout: OperandsLayout,
): string {
  const { operator, indent, tail } = layout;
  const single = `${head} ${members.join(` ${operator} `)}${tail}`;
  if (single.length <= LINE_WIDTH || members.length === 1) return single;
  const lines = members.map((member) => `${indent}  ${operator} ${member}`);
  return `${head}\n${lines.join("\n")}${tail}`;
}
