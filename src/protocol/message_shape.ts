import { formatPath } from "../schema/validate.ts";
import { parseJson } from "./json.ts";
import type { Limits } from "./limits.ts";
import { RpcError } from "./rpc_error.ts";

/**
 * The shape limits of one message (docs/security.md): how deeply it nests, how many object keys
 * and array items it holds. They bound the work a message can cause before its handler runs:
 * JSON.parse and zod cost per key and per item, most for a record of many keys (a record of
 * 200 000 keys in a 3.2 MB body stalled Deno's event loop for 450 ms).
 *
 * Two checks count the same way, keys and items over the whole message, in the order the JSON
 * text has them:
 *
 * - {@linkcode scanShape} reads a JSON text without parsing it, so that a text over the limits is
 *   refused before JSON.parse spends its time on it. It counts keys as written (a key that
 *   appears twice counts twice). Transports run it on texts of {@linkcode SHAPE_SCAN_CHARS} or
 *   more;
 * - {@linkcode checkShape} walks a parsed message: for shorter texts, which parse quickly, and
 *   for messages that arrive parsed. A text too short to pass any limit is not walked at all
 *   ({@linkcode mayPassShape}), which spares the small messages of everyday calls.
 *
 * {@linkcode parseMessage} does the right one for a text; every transport decodes its messages
 * with it (or with the two checks, where the JSON comes parsed or framed).
 */
export type ShapeLimits = Pick<Limits, "maxDepth" | "maxKeys" | "maxItems">;

/** Which limit a message passed, and where. */
export interface ShapeFailure {
  /** The option's name: `maxDepth`, `maxKeys` or `maxItems`. */
  limitName: "maxDepth" | "maxKeys" | "maxItems";
  /** The limit. */
  limit: number;
  /** Where the limit was passed: the container one level too deep, the key or the item over. */
  path: (string | number)[];
}

/**
 * Texts at least this long are scanned before they are parsed. Shorter ones parse in a few
 * milliseconds at most, whatever they hold.
 */
export const SHAPE_SCAN_CHARS = 64 * 1024;

/**
 * Whether a JSON text of this length could pass a shape limit at all: nesting one level deeper
 * than `maxDepth` takes `2 * (maxDepth + 1)` characters, a key more than `maxKeys` at least
 * `5 * (maxKeys + 1)`, an item more than `maxItems` at least `2 * (maxItems + 1)`. With the default
 * limits, texts of up to 129 characters cannot, and are not checked.
 *
 * @param length The text's length, in UTF-16 code units or bytes (bytes are never fewer).
 * @param limits The limits.
 * @returns false when no text of this length can pass a limit.
 */
export function mayPassShape(length: number, limits: ShapeLimits): boolean {
  return length >= 2 * (limits.maxDepth + 1) || length >= 5 * (limits.maxKeys + 1) ||
    length >= 2 * (limits.maxItems + 1);
}

/**
 * Parses one message a peer sent, held to the shape limits: a long text is scanned before it is
 * parsed, a shorter one checked once parsed (and a very short one not at all).
 *
 * @param text The JSON text.
 * @param what The message, for error texts: `"request body"`, `"message at index 3"`.
 * @param limits The limits.
 * @param index The message's index in a stream, when it is one.
 * @returns The parsed message.
 * @throws {RpcError} `resource_exhausted` over a limit, `invalid_argument` for malformed JSON.
 */
export function parseMessage(
  text: string,
  what: string,
  limits: ShapeLimits,
  index?: number,
): unknown {
  if (text.length >= SHAPE_SCAN_CHARS) {
    const failure = scanShape(text, limits);
    if (failure) throw shapeError(failure, what, index);
    return parseJson(text, what);
  }
  const value = parseJson(text, what);
  if (mayPassShape(text.length, limits)) {
    const failure = checkShape(value, limits);
    if (failure) throw shapeError(failure, what, index);
  }
  return value;
}

interface WalkState {
  keys: number;
  items: number;
  readonly limits: ShapeLimits;
  failed: ShapeFailure["limitName"] | undefined;
  /** Filled while unwinding after a failure, innermost first. */
  readonly path: (string | number)[];
}

/**
 * Checks a parsed message against the shape limits.
 *
 * @param value The message.
 * @param limits The limits.
 * @param keys Keys already counted against `maxKeys` (a WebSocket open frame's metadata).
 * @returns undefined when the message is within them; else which limit it passed, and where.
 */
export function checkShape(
  value: unknown,
  limits: ShapeLimits,
  keys = 0,
): ShapeFailure | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const state: WalkState = { keys, items: 0, limits, failed: undefined, path: [] };
  if (!walk(value, 1, state)) return undefined;
  const limitName = state.failed!;
  return { limitName, limit: limits[limitName], path: state.path.reverse() };
}

/** Walks one object or array at a depth; true when a limit was passed (the path is unwound). */
function walk(value: object, depth: number, state: WalkState): boolean {
  if (depth > state.limits.maxDepth) {
    state.failed = "maxDepth";
    return true;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (++state.items > state.limits.maxItems) {
        state.failed = "maxItems";
        state.path.push(i);
        return true;
      }
      const item: unknown = value[i];
      if (typeof item === "object" && item !== null && walk(item, depth + 1, state)) {
        state.path.push(i);
        return true;
      }
    }
    return false;
  }
  for (const key in value) {
    if (++state.keys > state.limits.maxKeys) {
      state.failed = "maxKeys";
      state.path.push(key);
      return true;
    }
    const child: unknown = (value as Record<string, unknown>)[key];
    if (typeof child === "object" && child !== null && walk(child, depth + 1, state)) {
      state.path.push(key);
      return true;
    }
  }
  return false;
}

/** How a text is scanned. */
export interface ScanOptions {
  /**
   * The text is a JSON array whose items are messages (a client stream sent as one JSON array):
   * each item is held to the limits on its own, and a failure's path starts with its index.
   */
  elements?: boolean;
  /**
   * The text is a WebSocket frame: the message inside it is one level down, and the frame's own
   * keys (`type`, `id`, `data`, ...) are not counted. Those of an open frame's metadata are, with
   * its input's.
   */
  envelope?: boolean;
}

const ARRAY = 1;
const OBJECT = 0;

/**
 * Scans a JSON text for the shape limits without parsing it. A text that is not valid JSON is
 * left to JSON.parse to report (the scan returns undefined for it, or the limit it passed first).
 *
 * @param text The JSON text.
 * @param limits The limits.
 * @param options For a JSON array of messages, or a WebSocket frame.
 * @returns undefined when the text is within the limits; else which limit it passed, and where.
 */
export function scanShape(
  text: string,
  limits: ShapeLimits,
  options: ScanOptions = {},
): ShapeFailure | undefined {
  const base = options.elements || options.envelope ? 1 : 0;
  const maxDepth = limits.maxDepth + base;
  const { maxKeys, maxItems } = limits;
  const elements = options.elements === true;
  const envelope = options.envelope === true;
  // Per open container: its kind, and where it is (an array: the index of its current item; an
  // object: the offset of its current key's string).
  const kinds: number[] = [];
  const marks: number[] = [];
  let keys = 0;
  let items = 0;
  let pendingItem = false;
  let lastString = -1;
  const fail = (limitName: ShapeFailure["limitName"], extraKey?: number): ShapeFailure => {
    const path: (string | number)[] = [];
    const levels = extraKey === undefined ? kinds.length : kinds.length - 1;
    for (let level = 0; level < levels; level++) {
      path.push(kinds[level] === ARRAY ? marks[level]! : keyAt(text, marks[level]!));
    }
    if (extraKey !== undefined) path.push(keyAt(text, extraKey));
    if (envelope && (path[0] === "data" || path[0] === "input")) path.shift();
    const limit = limitName === "maxDepth"
      ? limits.maxDepth
      : limitName === "maxKeys"
      ? limits.maxKeys
      : maxItems;
    return { limitName, limit, path };
  };
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c <= 32) continue;
    if (c === 58) { // ':' ends a key
      marks[marks.length - 1] = lastString;
      if (envelope && kinds.length === 1) continue; // the frame's own
      if (++keys > maxKeys) return fail("maxKeys", lastString);
      continue;
    }
    if (c === 44) { // ','
      if (kinds[kinds.length - 1] === ARRAY) pendingItem = true;
      continue;
    }
    if (c === 125 || c === 93) { // '}' ']'
      kinds.pop();
      marks.pop();
      pendingItem = false;
      continue;
    }
    // A value (or a key) starts here.
    if (pendingItem) {
      pendingItem = false;
      marks[marks.length - 1]!++;
      if (elements && kinds.length === 1) {
        // The next message of a JSON array of messages: each is counted on its own.
        keys = 0;
        items = 0;
      } else if (++items > maxItems) {
        return fail("maxItems");
      }
    }
    if (c === 34) { // '"'
      lastString = i;
      i = endOfString(text, i);
      if (i === -1) return undefined;
      continue;
    }
    if (c === 123 || c === 91) { // '{' '['
      if (kinds.length >= maxDepth) return fail("maxDepth");
      kinds.push(c === 91 ? ARRAY : OBJECT);
      marks.push(-1);
      pendingItem = c === 91;
    }
  }
  return undefined;
}

/** The offset of the quote that ends the string starting at `start`, or -1. */
function endOfString(text: string, start: number): number {
  let end = text.indexOf('"', start + 1);
  while (end !== -1) {
    let k = end - 1;
    while (text.charCodeAt(k) === 92) k--;
    if ((end - 1 - k) % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
  return -1;
}

/** The key whose string starts at an offset. */
function keyAt(text: string, start: number): string {
  if (start < 0) return "";
  try {
    return JSON.parse(text.slice(start, endOfString(text, start) + 1)) as string;
  } catch {
    return "";
  }
}

/**
 * The error for a message over a shape limit: `resource_exhausted`, with
 * `details: { limit, limit_name, path }` (and `index` for a message of a stream).
 *
 * @param failure Which limit, and where.
 * @param what The message, for the error's text: `"request"`, `"message at index 3"`.
 * @param index The message's index in a stream, when it is one.
 * @returns The error.
 */
export function shapeError(failure: ShapeFailure, what: string, index?: number): RpcError {
  const { limitName, limit, path } = failure;
  const where = path.length === 0 ? "the top level" : formatPath(path);
  const text = limitName === "maxDepth"
    ? `The ${what} nests deeper than ${limit} levels, at ${where} (limit maxDepth): flatten it, ` +
      "or raise the server's maxDepth"
    : `The ${what} has more than ${limit} ${
      limitName === "maxKeys" ? "object keys" : "array items"
    } (limit ${limitName}, passed at ${where}): send large collections as a stream, or raise ` +
      `the server's ${limitName}`;
  const details: Record<string, unknown> = { limit, limit_name: limitName, path };
  if (index !== undefined) details.index = index;
  return new RpcError("resource_exhausted", text, { details });
}
