import type { z } from "zod";

/** One validation problem, as sent in error details. */
export interface Issue {
  /** Where in the message: property names and array indices. */
  path: (string | number)[];
  /** What is wrong. */
  message: string;
  /** zod's issue code (`invalid_type`, `too_small`, ...). */
  code: string;
}

/** The outcome of {@linkcode validate}. */
export type Validation =
  | { ok: true; value: unknown }
  | { ok: false; issues: Issue[] };

/**
 * Validates a value against a schema, synchronously when the schema allows it and asynchronously
 * only when it has async refinements or transforms.
 *
 * @param schema The zod schema.
 * @param value The value.
 * @returns The parsed value (with defaults applied, unknown keys stripped), or the issues.
 */
export function validate(schema: z.ZodType, value: unknown): Validation | Promise<Validation> {
  let result: z.ZodSafeParseResult<unknown>;
  try {
    result = schema.safeParse(value);
  } catch (error) {
    // zod throws when a schema needs async parsing; everything else is a real failure.
    if (error instanceof Error && error.constructor.name === "$ZodAsyncError") {
      return schema.safeParseAsync(value).then(toValidation);
    }
    throw error;
  }
  return toValidation(result);
}

function toValidation(result: z.ZodSafeParseResult<unknown>): Validation {
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => ({
      path: issue.path.map((key) => typeof key === "number" ? key : String(key)),
      message: issue.message,
      code: issue.code,
    })),
  };
}

/**
 * Writes a path the way it would be written in code: `items[2].name`.
 *
 * @param path Property names and indices.
 * @returns The path, or `""` for the root.
 */
export function formatPath(path: readonly (string | number)[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out === "" ? key : `.${key}`;
  }
  return out;
}

/**
 * Summarises issues in one line: the first issue with its path, and how many more there are.
 *
 * @param issues The issues (at least one).
 * @returns For example `age: expected number, received string (and 1 more issue)`.
 */
export function summarizeIssues(issues: readonly Issue[]): string {
  const first = issues[0];
  if (!first) return "invalid value";
  const message = first.message.replace(/^Invalid input: /, "");
  const path = formatPath(first.path);
  const more = issues.length > 1
    ? ` (and ${issues.length - 1} more issue${issues.length > 2 ? "s" : ""})`
    : "";
  return `${path === "" ? "" : `${path}: `}${message}${more}`;
}
