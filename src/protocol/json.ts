import { RpcError } from "./rpc_error.ts";

/**
 * Parses JSON sent by a peer. On failure the error names the line and column and says what was
 * expected, the same on every runtime (V8 and JavaScriptCore word their own errors differently, and
 * JavaScriptCore gives no position).
 *
 * @param text The JSON text.
 * @param what What the text is, for the message: `"request body"`, `"message at index 3"`.
 * @returns The parsed value.
 * @throws {RpcError} `invalid_argument` when the text is not JSON.
 */
export function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const found = locateJsonError(text);
    const where = found
      ? `at line ${found.line}, column ${found.column}: ${found.reason}`
      : `: ${error instanceof Error ? error.message : String(error)}`;
    throw new RpcError("invalid_argument", `Malformed JSON in ${what} ${where}`, {
      details: found ? { line: found.line, column: found.column } : undefined,
    });
  }
}

/** Where a JSON text first goes wrong. Lines and columns start at 1. */
export interface JsonErrorLocation {
  /** Offset in UTF-16 code units. */
  offset: number;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** What was expected or found. */
  reason: string;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);

/**
 * Finds the first syntax error in a JSON text. Runs only after JSON.parse has failed, so it favours
 * a precise message over speed. It walks with an explicit stack, so deep nesting cannot overflow.
 *
 * @param text The text JSON.parse rejected.
 * @returns The location and reason, or undefined when the text is valid JSON.
 */
export function locateJsonError(text: string): JsonErrorLocation | undefined {
  const stack: string[] = [];
  let i = 0;
  let expect: "value" | "value_or_close" | "key" | "key_or_close" | "after" = "value";
  const at = (offset: number, reason: string): JsonErrorLocation => {
    let line = 1;
    let lineStart = 0;
    for (let k = 0; k < offset; k++) {
      if (text.charCodeAt(k) === 10) {
        line++;
        lineStart = k + 1;
      }
    }
    return { offset, line, column: offset - lineStart + 1, reason };
  };
  const describe = (c: string) => JSON.stringify(c);
  // Reads a string starting at text[i] === '"'; returns an error or undefined.
  const readString = (): JsonErrorLocation | undefined => {
    const start = i;
    i++;
    for (;;) {
      if (i >= text.length) return at(start, "unterminated string");
      const c = text[i]!;
      if (c === '"') {
        i++;
        return undefined;
      }
      if (c === "\\") {
        const e = text[i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
            return at(i, "invalid \\u escape: expected four hex digits");
          }
          i += 6;
          continue;
        }
        if (e === undefined || !ESCAPES.has(e)) {
          return at(i, `invalid escape sequence \\${e ?? ""}`);
        }
        i += 2;
        continue;
      }
      if (c.charCodeAt(0) < 0x20) return at(i, "control character in string (escape it)");
      i++;
    }
  };
  for (;;) {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
    if (i >= text.length) {
      if (expect === "after" && stack.length === 0) return undefined;
      return at(i, "unexpected end of input");
    }
    const c = text[i]!;
    if (expect === "after") {
      const top = stack.at(-1);
      if (top === undefined) return at(i, `unexpected ${describe(c)} after the end of the value`);
      if (c === ",") {
        i++;
        expect = top === "{" ? "key" : "value";
      } else if ((c === "}" && top === "{") || (c === "]" && top === "[")) {
        stack.pop();
        i++;
      } else {
        return at(
          i,
          top === "{"
            ? `expected ',' or '}' after a property value, found ${describe(c)}`
            : `expected ',' or ']' after an array element, found ${describe(c)}`,
        );
      }
      continue;
    }
    if (expect === "key" || expect === "key_or_close") {
      if (expect === "key_or_close" && c === "}") {
        stack.pop();
        i++;
        expect = "after";
        continue;
      }
      if (c !== '"') {
        return at(i, `expected a property name in double quotes, found ${describe(c)}`);
      }
      const error = readString();
      if (error) return error;
      while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
      if (text[i] !== ":") return at(i, "expected ':' after a property name");
      i++;
      expect = "value";
      continue;
    }
    // expect is "value" or "value_or_close"
    if (expect === "value_or_close" && c === "]") {
      stack.pop();
      i++;
      expect = "after";
      continue;
    }
    if (c === "{" || c === "[") {
      stack.push(c);
      i++;
      expect = c === "{" ? "key_or_close" : "value_or_close";
      continue;
    }
    expect = "after";
    if (c === '"') {
      const error = readString();
      if (error) return error;
      continue;
    }
    if (c === "-" || (c >= "0" && c <= "9")) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (!match) return at(i, "invalid number");
      i += match[0].length;
      continue;
    }
    const literal = ["true", "false", "null"].find((word) => text.startsWith(word, i));
    if (literal) {
      i += literal.length;
      continue;
    }
    return at(i, `unexpected ${describe(c)}, expected a value`);
  }
}
