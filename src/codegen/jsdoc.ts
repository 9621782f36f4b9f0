/** JSDoc comments for generated code. */
import { LINE_WIDTH } from "./layout.ts";

/**
 * A JSDoc comment: on one line when it is one short line, else one line per entry, long prose
 * wrapped at word boundaries. Empty entries become blank comment lines; `*\/` in the text is
 * escaped.
 *
 * @param lines The lines (no comment markers).
 * @param indent Spaces before the comment.
 * @returns The comment with a trailing newline, or `""` when there are no lines.
 */
export function jsDoc(lines: readonly string[], indent = ""): string {
  const width = LINE_WIDTH - indent.length - 3;
  const clean = trimBlank(
    lines.flatMap((line) => line.split(/\r?\n/)).map(escape).flatMap((line) => wrap(line, width)),
  );
  if (clean.length === 0) return "";
  const single = `${indent}/** ${clean[0]} */`;
  if (clean.length === 1 && single.length <= LINE_WIDTH) return `${single}\n`;
  const body = clean.map((line) => (line === "" ? `${indent} *` : `${indent} * ${line}`));
  return `${indent}/**\n${body.join("\n")}\n${indent} */\n`;
}

function escape(line: string): string {
  return line.replaceAll("*/", "*\\/").trimEnd();
}

/** Tags whose value must stay on one line. */
const VERBATIM = /^@(pattern|example|default|format) /;

/**
 * Splits a long line at spaces so that it fits the width (words longer than it stay whole, and so
 * does an inline tag such as `{@link getUser}`).
 */
function wrap(line: string, width: number): string[] {
  if (line.length <= width || VERBATIM.test(line)) return [line];
  const out: string[] = [];
  let current = "";
  for (const word of line.split(/ (?![^{}]*\})/)) {
    if (current !== "" && current.length + 1 + word.length > width) {
      out.push(current);
      current = word;
    } else {
      current = current === "" ? word : `${current} ${word}`;
    }
  }
  out.push(current);
  return out;
}

/** Drops blank lines at both ends and repeated blank lines. */
function trimBlank(lines: string[]): string[] {
  const out: string[] = [];
  for (const line of lines) {
    if (line === "" && (out.length === 0 || out[out.length - 1] === "")) continue;
    out.push(line);
  }
  while (out.length > 0 && out[out.length - 1] === "") out.pop();
  return out;
}
