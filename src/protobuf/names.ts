/**
 * The naming rules of the protobuf mapping (docs/connect.md, "Naming"). Every name is made of
 * ASCII letters, digits and `_`, in the case `buf lint` expects.
 */

/** Splits a name into words at `_`, `-`, other punctuation and case changes: `HTTPStatus2xx`. */
function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/([A-Z]+)([A-Z][a-z])/g, "$1 $2")
    .split(/[^A-Za-z0-9]+/)
    .filter((word) => word !== "");
}

/**
 * A name in lower_snake_case, for packages, fields and oneofs: `userId` and `user-id` give
 * `user_id`. A name that would not start with a letter gets a prefix.
 *
 * @param name Any name.
 * @param prefix Put in front when the result would start with a digit or be empty.
 * @returns The name.
 */
export function snakeCase(name: string, prefix = "field"): string {
  const result = words(name).map((word) => word.toLowerCase()).join("_");
  if (result === "") return prefix;
  return /^[0-9]/.test(result) ? `${prefix}_${result}` : result;
}

/**
 * A name in PascalCase, for messages, enums, services and RPCs: `get_user` gives `GetUser`; a
 * trailing `Schema` is dropped (`UserSchema` gives `User`).
 *
 * @param name Any name.
 * @param fallback Used when nothing is left.
 * @returns The name.
 */
export function pascalName(name: string, fallback = "Message"): string {
  let result = words(name).map((word) => word[0]!.toUpperCase() + word.slice(1)).join("");
  if (/^.+Schema$/.test(result)) result = result.slice(0, -"Schema".length);
  if (result === "") return fallback;
  return /^[0-9]/.test(result) ? `T${result}` : result;
}

/**
 * A name in UPPER_SNAKE_CASE, for enum values: `in-progress` gives `IN_PROGRESS`.
 *
 * @param name Any name.
 * @returns The name; `VALUE` when nothing is left.
 */
export function upperSnakeCase(name: string): string {
  const result = words(name).map((word) => word.toUpperCase()).join("_");
  return result === "" ? "VALUE" : result;
}

/**
 * The protobuf package of a service: its name in lower_snake_case, then `v<N>` for a versioned
 * service: `users` version 1 gives `users.v1`; an unversioned service's package is its name.
 *
 * @param service The service's name.
 * @param version Its version, if any.
 * @returns The package.
 */
export function packageName(service: string, version: number | undefined): string {
  const base = snakeCase(service, "service");
  return version === undefined ? base : `${base}.v${version}`;
}

/**
 * The JSON name protobuf derives from a field name (protoc's rule): each `_` dropped and the
 * letter after it upper-cased. `user_id` gives `userId`.
 *
 * @param name A field name.
 * @returns The JSON name.
 */
export function jsonName(name: string): string {
  let out = "";
  let upper = false;
  for (const char of name) {
    if (char === "_") upper = true;
    else if (upper) {
      out += char.toUpperCase();
      upper = false;
    } else out += char;
  }
  return out;
}

/**
 * Picks the first of `base`, `base_2`, `base_3`, ... (or `Base2`, ... when `joiner` is empty) for
 * which `free` holds, and records it.
 *
 * @param taken Names in use; the pick is added.
 * @param base The preferred name.
 * @param joiner Put between the name and the number.
 * @param free An extra condition a pick must meet.
 * @returns The pick.
 */
export function claim(
  taken: Set<string>,
  base: string,
  joiner = "",
  free: (name: string) => boolean = () => true,
): string {
  for (let n = 1;; n++) {
    const name = n === 1 ? base : `${base}${joiner}${n}`;
    if (!taken.has(name) && free(name)) {
      taken.add(name);
      return name;
    }
  }
}

/** Names of fields (and the oneof) in one message, with their JSON names, case-insensitively. */
export class FieldNames {
  #names = new Set<string>();
  #json = new Set<string>();

  /**
   * Claims a field name: `base`, or `base_2`, `base_3`, ... when the name or its JSON name is taken.
   *
   * @param base The preferred name.
   * @returns The name.
   */
  claim(base: string): string {
    return claim(this.#names, base, "_", (name) => {
      const lower = name.toLowerCase();
      if (this.#json.has(jsonName(lower))) return false;
      this.#json.add(jsonName(lower));
      return true;
    });
  }
}
