import { z } from "zod";
import { type JsonSchema, type SchemaRoot, schemasToJsonSchema } from "./json_schema.ts";
import { Pattern } from "./pattern.ts";
import type { Service } from "./service.ts";
import { pascalCase } from "./type_names.ts";

/** The version of the introspection format this library writes and reads. */
export const INTROSPECTION_FORMAT = 1;

/** Where an app publishes its introspection document (under its base path). */
export const INTROSPECTION_PATH = "/_microapi/introspection";

/**
 * One JSON description of an app: its services and methods, their patterns and routes, and the
 * JSON Schema of every message. The code generator and `microapi info` read only this, whether it
 * was built from service files or fetched from a running server. The format is described in
 * docs/codegen.md.
 */
export interface IntrospectionDocument {
  /** The format version, {@linkcode INTROSPECTION_FORMAT}. */
  readonly microapi: number;
  /** The app's base path, when it has one (`/rpc`); method paths are relative to it. */
  readonly basePath?: string;
  /** The services, in the order the app lists them. */
  readonly services: readonly ServiceDescription[];
  /** The message schemas, by type name; methods refer to them as `#/$defs/<name>`. */
  readonly $defs: Readonly<Record<string, JsonSchema>>;
}

/** A service in an {@linkcode IntrospectionDocument}. */
export interface ServiceDescription {
  /** The service's name. */
  readonly name: string;
  /** The version, for a versioned service. */
  readonly version?: number;
  /** The description, if any. */
  readonly description?: string;
  /** Present when the whole service is deprecated: `true`, or what to use instead. */
  readonly deprecated?: true | string;
  /** The methods, in registration order. */
  readonly methods: readonly MethodDescription[];
}

/** A method in an {@linkcode IntrospectionDocument}. */
export interface MethodDescription {
  /** The method's name. */
  readonly name: string;
  /** One of the four patterns. */
  readonly pattern: Pattern;
  /** The HTTP path, relative to the app's base path: `/users/get_user`, `/v2/users/get_user`. */
  readonly path: string;
  /** The description, if any. */
  readonly description?: string;
  /** Present when the method is deprecated: `true`, or what to use instead. */
  readonly deprecated?: true | string;
  /** The schema of each request message (`{ "$ref": "#/$defs/<name>" }`); absent for none. */
  readonly input?: JsonSchema;
  /** The schema of each response message; absent when the method returns nothing. */
  readonly output?: JsonSchema;
}

/** How {@linkcode buildIntrospection} names things. */
export interface IntrospectionOptions {
  /**
   * Names for schemas, by identity: typically the export names of the modules the services came
   * from (`microapi` passes them). A schema's own `.meta({ id })` takes precedence.
   */
  schemaNames?: ReadonlyMap<object, string>;
  /** The app's base path, recorded in the document. */
  basePath?: string;
}

/**
 * Describes services as an {@linkcode IntrospectionDocument}. Every method's input and output
 * becomes a named definition: named after the schema's `.meta({ id })`, else its export name (from
 * `schemaNames`), else `<Method>Request` / `<Method>Response`.
 *
 * @param services The services.
 * @param options Schema names, base path.
 * @returns The document; plain JSON.
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { buildIntrospection, Service, z } from "../../mod.ts";
 * const User = z.object({ name: z.string() });
 * const users = new Service("users")
 *   .method("get", { input: z.object({ id: z.number() }), output: User }, () => ({ name: "a" }));
 * const doc = buildIntrospection([users], { schemaNames: new Map([[User, "User"]]) });
 * assert.deepEqual(doc.services[0]!.methods[0]!.output, { $ref: "#/$defs/User" });
 * assert.deepEqual(Object.keys(doc.$defs), ["GetRequest", "User"]);
 * ```
 */
export function buildIntrospection(
  services: Iterable<Service>,
  options: IntrospectionOptions = {},
): IntrospectionDocument {
  const list = [...services];
  const roots: SchemaRoot[] = [];
  const slots: { service: number; method: number; side: "input" | "output" }[] = [];
  list.forEach((service, s) => {
    service.methods.forEach((method, m) => {
      const names = (suffix: string) => [
        `${pascalCase(method.name)}${suffix}`,
        `${pascalCase(service.name)}${pascalCase(method.name)}${suffix}`,
      ];
      if (method.input) {
        roots.push({ schema: method.input, side: "input", fallbackNames: names("Request") });
        slots.push({ service: s, method: m, side: "input" });
      }
      if (method.output) {
        roots.push({ schema: method.output, side: "output", fallbackNames: names("Response") });
        slots.push({ service: s, method: m, side: "output" });
      }
    });
  });
  const converted = schemasToJsonSchema(roots, options.schemaNames);
  const refs = new Map<string, string>();
  slots.forEach((slot, i) => {
    refs.set(`${slot.service}/${slot.method}/${slot.side}`, converted.refs[i]!);
  });
  const ref = (key: string) => refs.has(key) ? { $ref: refs.get(key)! } : undefined;
  return {
    microapi: INTROSPECTION_FORMAT,
    ...(options.basePath ? { basePath: options.basePath } : {}),
    services: list.map((service, s) => ({
      name: service.name,
      ...(service.version === undefined ? {} : { version: service.version }),
      ...(service.description === undefined ? {} : { description: service.description }),
      ...(service.deprecated ? { deprecated: service.deprecated } : {}),
      methods: service.methods.map((method, m) => {
        const input = ref(`${s}/${m}/input`);
        const output = ref(`${s}/${m}/output`);
        return {
          name: method.name,
          pattern: method.pattern,
          path: `${
            service.version === undefined ? "" : `/v${service.version}`
          }/${service.name}/${method.name}`,
          ...(method.description === undefined ? {} : { description: method.description }),
          ...(method.deprecated ? { deprecated: method.deprecated } : {}),
          ...(input ? { input } : {}),
          ...(output ? { output } : {}),
        };
      }),
    })),
    $defs: converted.defs,
  };
}

const Deprecated = z.union([z.literal(true), z.string()]).optional();
const Schema = z.record(z.string(), z.unknown());
const DocumentSchema = z.object({
  microapi: z.literal(INTROSPECTION_FORMAT),
  basePath: z.string().optional(),
  services: z.array(z.object({
    name: z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,63}$/),
    version: z.number().int().positive().optional(),
    description: z.string().optional(),
    deprecated: Deprecated,
    methods: z.array(z.object({
      name: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/),
      pattern: z.enum(Pattern),
      path: z.string().regex(/^\/(v[1-9]\d*\/)?[A-Za-z][A-Za-z0-9_-]*\/[A-Za-z_][A-Za-z0-9_]*$/),
      description: z.string().optional(),
      deprecated: Deprecated,
      input: Schema.optional(),
      output: Schema.optional(),
    })),
  })),
  $defs: z.record(z.string(), Schema),
});

/**
 * Checks that a value (parsed JSON from a file or a server) is an introspection document this
 * library can read.
 *
 * @param value The parsed JSON.
 * @param source Where it came from, for the error message (a URL).
 * @returns The document.
 * @throws {TypeError} Naming the source and the first problem, for anything else.
 */
export function parseIntrospection(value: unknown, source: string): IntrospectionDocument {
  const format = (value as { microapi?: unknown } | null)?.microapi;
  if (typeof value !== "object" || value === null || format === undefined) {
    throw new TypeError(`${source} is not a microapi introspection document`);
  }
  if (format !== INTROSPECTION_FORMAT) {
    throw new TypeError(
      `${source} uses introspection format ${JSON.stringify(format)}; this microapi reads format ` +
        `${INTROSPECTION_FORMAT} (update microapi)`,
    );
  }
  const result = DocumentSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    throw new TypeError(
      `Invalid introspection document from ${source}: ${
        issue.path.join(".") || "(root)"
      }: ${issue.message}`,
    );
  }
  return result.data as IntrospectionDocument;
}
