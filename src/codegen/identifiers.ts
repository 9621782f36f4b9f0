/** Identifier rules for generated code. */

/** Words that cannot name a binding in a module (strict mode), plus the TypeScript ones. */
const RESERVED: ReadonlySet<string> = new Set([
  "arguments",
  "await",
  "break",
  "case",
  "catch",
  "class",
  "const",
  "continue",
  "debugger",
  "default",
  "delete",
  "do",
  "else",
  "enum",
  "eval",
  "export",
  "extends",
  "false",
  "finally",
  "for",
  "function",
  "if",
  "implements",
  "import",
  "in",
  "instanceof",
  "interface",
  "let",
  "new",
  "null",
  "package",
  "private",
  "protected",
  "public",
  "return",
  "static",
  "super",
  "switch",
  "this",
  "throw",
  "true",
  "try",
  "typeof",
  "undefined",
  "var",
  "void",
  "while",
  "with",
  "yield",
]);

/**
 * A name in camelCase, safe as a binding: `get_user` gives `getUser`, `delete` gives `delete_`.
 *
 * @param name A method or service name.
 * @returns The identifier.
 */
export function camelCase(name: string): string {
  const words = name.split(/[^A-Za-z0-9]+/).filter((word) => word !== "");
  const joined = words.map((word, i) =>
    i === 0 ? word[0]!.toLowerCase() + word.slice(1) : word[0]!.toUpperCase() + word.slice(1)
  ).join("");
  const safe = /^[0-9]/.test(joined) ? `_${joined}` : joined || "_";
  return RESERVED.has(safe) ? `${safe}_` : safe;
}

/**
 * A property name as written in a type: bare when it is an identifier, quoted otherwise.
 *
 * @param name The property name.
 * @returns `name` or `"na-me"`.
 */
export function propertyKey(name: string): string {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name);
}
