/**
 * What the environment says about where the app runs, as MicroAPI reads it: `MICROAPI_ENV`, or
 * `NODE_ENV` when `MICROAPI_ENV` is unset. `unreadable` when a variable that decides cannot be
 * read (Deno without `--allow-env`): MicroAPI then assumes production, so that nothing meant for
 * development is published by accident (docs/security.md).
 */
export type Environment = "production" | "development" | "unreadable";

/**
 * Reads the environment.
 *
 * @param read Reads one variable: its value, undefined when unset, null when it cannot be read.
 * @returns `production` when `MICROAPI_ENV` (or, when it is unset, `NODE_ENV`) is `production`;
 * `unreadable` when the variable that would decide cannot be read; `development` otherwise.
 */
export function environmentFrom(read: (name: string) => string | undefined | null): Environment {
  let value = read("MICROAPI_ENV");
  if (value === undefined) value = read("NODE_ENV");
  if (value === null) return "unreadable";
  return value?.trim().toLowerCase() === "production" ? "production" : "development";
}

/** What an app publishes beyond its calls. */
export interface Publishing {
  /** Whether `GET /_microapi/introspection` answers the document (and not-found errors hint). */
  readonly introspection: boolean;
  /** Whether the dev console is served. */
  readonly console: boolean;
}

/**
 * Decides what an app publishes: what its options say, and by default what the environment
 * allows. Introspection is on by default only in development; an environment that cannot be read
 * counts as production (fail closed). The console follows introspection, and is never on by
 * default outside development.
 *
 * @param options The app's `introspection` and `console` options.
 * @param environment What the environment says.
 * @returns What to publish.
 * @throws {TypeError} For `console: true` without introspection.
 */
export function resolvePublishing(
  options: { readonly introspection?: boolean; readonly console?: boolean },
  environment: Environment,
): Publishing {
  const development = environment === "development";
  const introspection = options.introspection ?? development;
  if (options.console === true && !introspection) {
    throw new TypeError(
      "Invalid console: true: the console reads the introspection document, which this app " +
        "does not publish (introspection: false, or MICROAPI_ENV/NODE_ENV is production or " +
        "cannot be read); set introspection: true as well, or leave console unset",
    );
  }
  return { introspection, console: options.console ?? (introspection && development) };
}
