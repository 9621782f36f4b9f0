import type { Reserved } from "./model.ts";

/**
 * Field and enum value numbers, kept stable by a lock file (docs/connect.md, "Field numbers").
 *
 * A number comes from, in order: the schema's own `.meta({ protobuf: { fields } })` (or `values`
 * for an enum); the lock; else the next free number. Without a lock, "next free" is the lowest
 * unused number, so fields are numbered in declaration order. With a lock entry for the message,
 * it is above every number the lock has ever recorded for it, so a number is never given twice:
 * adding a field anywhere leaves the others alone, reordering changes nothing, and a removed
 * field's number and name become reserved.
 */

/** The lock file: every message's and enum's numbers, by full name. */
export interface ProtoLock {
  /** The format version, 1. */
  readonly version: 1;
  /** Messages by full name. */
  readonly messages: Readonly<Record<string, LockEntry>>;
  /** Enums by full name. */
  readonly enums: Readonly<Record<string, LockEntry>>;
}

/** The numbers of one message (by property name) or enum (by enum value). */
export interface LockEntry {
  /** The numbers in use, by property name (a message) or value (an enum). */
  readonly numbers: Readonly<Record<string, number>>;
  /** Numbers once used and not to be used again, ascending. */
  readonly reserved?: readonly number[];
  /** Property names or values once used, sorted. */
  readonly reservedNames?: readonly string[];
}

/** The lowest and highest field numbers protobuf allows. */
export const MAX_FIELD_NUMBER = 536_870_911;
const IMPLEMENTATION_RESERVED = { from: 19_000, to: 19_999 };
const MAX_ENUM_NUMBER = 2_147_483_647;

/** What to number: a message's fields or an enum's values. */
export interface NumberingInput {
  /** What, for errors: `message users.v1.User`. */
  readonly where: string;
  /** Field numbers follow protobuf's field rules; enum values start at 1 (0 is UNSPECIFIED). */
  readonly kind: "message" | "enum";
  /** The property names or values, in declaration order. */
  readonly keys: readonly string[];
  /** Numbers from the schema's metadata. */
  readonly explicit?: Readonly<Record<string, number>>;
  /** Reserved numbers and names from the schema's metadata. */
  readonly reserved?: readonly (number | string)[];
  /** The lock's entry, if any. */
  readonly locked?: LockEntry;
}

/** The numbers chosen, what is reserved, and the new lock entry. */
export interface Numbering {
  /** A number for every key. */
  readonly numbers: ReadonlyMap<string, number>;
  /** Reserved numbers (ascending) and names (sorted; keys, not yet protobuf names). */
  readonly reserved: Reserved;
  /** The lock entry to write. */
  readonly entry: LockEntry;
  /** What changed against the lock, one line each; empty without a lock entry. */
  readonly changes: readonly string[];
}

/**
 * Numbers a message's fields or an enum's values.
 *
 * @param input The keys, metadata and lock entry.
 * @returns The numbers, reservations and the lock entry to write.
 * @throws {TypeError} For an invalid or duplicate explicit number, an explicit number that reuses
 * a reserved one, or metadata naming a key that does not exist.
 */
export function assignNumbers(input: NumberingInput): Numbering {
  const { where, kind, keys, locked } = input;
  const explicit = input.explicit ?? {};
  const label = kind === "message" ? "field" : "value";
  const present = new Set(keys);
  const valid = (n: number) =>
    Number.isInteger(n) && n >= 1 &&
    (kind === "enum" ? n <= MAX_ENUM_NUMBER : n <= MAX_FIELD_NUMBER &&
      !(n >= IMPLEMENTATION_RESERVED.from && n <= IMPLEMENTATION_RESERVED.to));

  const reservedNumbers = new Set<number>(locked?.reserved ?? []);
  const reservedNames = new Set<string>(locked?.reservedNames ?? []);
  for (const item of input.reserved ?? []) {
    if (typeof item === "string") reservedNames.add(item);
    else if (valid(item)) reservedNumbers.add(item);
    else throw new TypeError(`Invalid reserved number ${item} in ${where}`);
  }
  for (const key of reservedNames) {
    if (present.has(key)) {
      throw new TypeError(
        `${where} has a ${label} ${
          JSON.stringify(key)
        }, but that name is reserved (it was removed ` +
          "once; reusing it breaks old clients): rename it, or remove it from the reserved names",
      );
    }
  }

  const numbers = new Map<string, number>();
  const owner = new Map<number, string>();
  const take = (key: string, n: number, source: string) => {
    const other = owner.get(n);
    if (other !== undefined) {
      throw new TypeError(
        `${where}: ${source} gives number ${n} to ${label} ${JSON.stringify(key)}, but ${
          JSON.stringify(other)
        } has it`,
      );
    }
    if (reservedNumbers.has(n)) {
      throw new TypeError(
        `${where}: ${source} gives ${label} ${
          JSON.stringify(key)
        } number ${n}, which is reserved ` +
          "(a removed field or value had it; reusing it breaks old clients): pick another",
      );
    }
    numbers.set(key, n);
    owner.set(n, key);
  };

  for (const [key, n] of Object.entries(explicit)) {
    if (!present.has(key)) {
      throw new TypeError(
        `${where}: .meta({ protobuf }) numbers ${label} ${JSON.stringify(key)}, which does not ` +
          `exist (the ${label}s are ${keys.map((k) => JSON.stringify(k)).join(", ") || "none"})`,
      );
    }
    if (!valid(n)) {
      throw new TypeError(
        `${where}: invalid number ${n} for ${label} ${JSON.stringify(key)} (expected an integer ` +
          (kind === "enum"
            ? `from 1 to ${MAX_ENUM_NUMBER})`
            : `from 1 to ${MAX_FIELD_NUMBER}, not 19000-19999)`),
      );
    }
  }
  // A locked number that metadata moves is retired, like a removed field's.
  for (const [key, n] of Object.entries(locked?.numbers ?? {})) {
    if (present.has(key) && explicit[key] !== undefined && explicit[key] !== n) {
      reservedNumbers.add(n);
    }
  }
  for (const key of keys) {
    if (explicit[key] !== undefined) take(key, explicit[key], ".meta({ protobuf })");
  }
  for (const key of keys) {
    const n = locked?.numbers[key];
    if (!numbers.has(key) && n !== undefined) take(key, n, "the lock");
  }

  const changes: string[] = [];
  for (const [key, n] of Object.entries(locked?.numbers ?? {})) {
    if (!present.has(key)) {
      reservedNumbers.add(n);
      reservedNames.add(key);
      changes.push(`${where}: ${label} ${JSON.stringify(key)} removed, number ${n} reserved`);
    }
  }

  let next = 1;
  if (locked !== undefined) {
    next = Math.max(0, ...Object.values(locked.numbers), ...(locked.reserved ?? [])) + 1;
  }
  for (const key of keys) {
    if (numbers.has(key)) continue;
    while (!valid(next) || owner.has(next) || reservedNumbers.has(next)) {
      next++;
      if (next > (kind === "enum" ? MAX_ENUM_NUMBER : MAX_FIELD_NUMBER)) {
        throw new RangeError(`${where}: no ${label} numbers left`);
      }
    }
    take(key, next, "numbering");
    if (locked !== undefined) {
      changes.push(`${where}: new ${label} ${JSON.stringify(key)} = ${next}`);
    }
  }
  if (locked !== undefined) {
    for (const key of keys) {
      const before = locked.numbers[key];
      if (before !== undefined && before !== numbers.get(key)) {
        changes.push(
          `${where}: ${label} ${JSON.stringify(key)} renumbered ${before} -> ${numbers.get(key)}`,
        );
      }
    }
  }

  const sortedNumbers = [...reservedNumbers].sort((a, b) => a - b);
  const sortedNames = [...reservedNames].sort();
  const entry: LockEntry = {
    numbers: Object.fromEntries(keys.map((key) => [key, numbers.get(key)!])),
    ...(sortedNumbers.length > 0 ? { reserved: sortedNumbers } : {}),
    ...(sortedNames.length > 0 ? { reservedNames: sortedNames } : {}),
  };
  return { numbers, reserved: { numbers: sortedNumbers, names: sortedNames }, entry, changes };
}

/** An empty lock. */
export function emptyLock(): ProtoLock {
  return { version: 1, messages: {}, enums: {} };
}

/**
 * Checks a parsed lock file.
 *
 * @param value The parsed JSON.
 * @param source Where it came from, for errors.
 * @returns The lock.
 * @throws {TypeError} Naming the source and the first problem.
 */
export function parseLock(value: unknown, source: string): ProtoLock {
  const fail = (what: string): never => {
    throw new TypeError(`Invalid protobuf lock ${source}: ${what}`);
  };
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail("not an object");
  const lock = value as Record<string, unknown>;
  if (lock.version !== 1) fail(`unknown version ${JSON.stringify(lock.version)} (expected 1)`);
  const section = (name: "messages" | "enums"): Record<string, LockEntry> => {
    const entries = lock[name] ?? {};
    if (typeof entries !== "object" || entries === null || Array.isArray(entries)) {
      fail(`${name} is not an object`);
    }
    for (const [fullName, entry] of Object.entries(entries as Record<string, unknown>)) {
      const e = entry as Record<string, unknown> | null;
      const at = `${name}[${JSON.stringify(fullName)}]`;
      if (typeof e !== "object" || e === null || typeof e.numbers !== "object" || !e.numbers) {
        fail(`${at} has no numbers`);
      }
      for (const [key, n] of Object.entries(e!.numbers as Record<string, unknown>)) {
        if (!Number.isSafeInteger(n) || (n as number) < 1) fail(`${at}.numbers.${key} is ${n}`);
      }
      if (
        e!.reserved !== undefined &&
        (!Array.isArray(e!.reserved) || !e!.reserved.every((n) => Number.isSafeInteger(n)))
      ) fail(`${at}.reserved is not a list of numbers`);
      if (
        e!.reservedNames !== undefined &&
        (!Array.isArray(e!.reservedNames) ||
          !e!.reservedNames.every((n) => typeof n === "string"))
      ) fail(`${at}.reservedNames is not a list of strings`);
    }
    return entries as Record<string, LockEntry>;
  };
  return { version: 1, messages: section("messages"), enums: section("enums") };
}

/**
 * The lock as the text of a file: JSON, entries sorted by name, so that the same lock always
 * gives the same bytes and diffs stay small.
 *
 * @param lock The lock.
 * @returns The file's text, ending with a newline.
 */
export function formatLock(lock: ProtoLock): string {
  const sorted = (entries: Readonly<Record<string, LockEntry>>) =>
    Object.fromEntries(
      Object.keys(entries).sort().map((name) => [name, entries[name]!]),
    );
  return `${
    JSON.stringify(
      { version: 1, messages: sorted(lock.messages), enums: sorted(lock.enums) },
      null,
      2,
    )
  }\n`;
}
