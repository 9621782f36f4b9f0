/**
 * Services that exercise the code generator: every pattern, a versioned and an unversioned service
 * with the same name, deprecation, nested and recursive objects, unions, enums, records, tuples,
 * records keyed by enums (inline, exported, unions of literals), defaults (input and output types
 * that differ), a reserved word, names that clash, a deprecation notice that names methods, a
 * schema named like a TypeScript global and ones named like runtime names, and a service named
 * `types`.
 */
import { RpcError, Service, stream, streaming, z } from "../../mod.ts";

/** A postal address, shared by several schemas. */
export const Address = z.object({
  street: z.string().min(1).describe("Street and number"),
  city: z.string(),
  zip: z.string().regex(/^\d{5}$/).optional(),
});

export const Profile = z.object({
  id: z.uuid(),
  email: z.email().describe("Where to write"),
  nickname: z.string().max(20).nullable(),
  age: z.number().int().min(0).max(150).default(18),
  home: Address,
  work: Address.nullable().optional(),
  tags: z.array(z.string().min(1)).max(10),
  links: z.array(z.object({ label: z.string(), url: z.url() })),
  settings: z.object({ theme: z.enum(["light", "dark"]), beta: z.boolean().default(false) }),
  scores: z.record(z.string(), z.number()),
  quota: z.partialRecord(z.enum(["cpu", "memory"]), z.number().positive()),
  point: z.tuple([z.number(), z.number()]),
  role: z.union([z.literal("admin"), z.literal("member"), z.literal("guest")]),
  "x-trace-id": z.string().optional().meta({ deprecated: true, description: "Old clients" }),
  extra: z.unknown(),
});

export const Shape = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("circle"), radius: z.number().positive() }),
  z.object({ kind: z.literal("rect"), width: z.number(), height: z.number() }),
]).meta({ id: "Shape", description: "A shape to draw */ safely" });

interface Tree {
  name: string;
  children: Tree[];
}
export const TreeNode: z.ZodType<Tree> = z.object({
  name: z.string(),
  get children() {
    return z.array(TreeNode);
  },
});

/** Named like a TypeScript global: the generated type must not shadow `Record`. */
export const Record = z.object({ key: z.string(), value: z.string() });

/** Named like the runtime's `Connection`, which client code imports next to the client. */
export const Connection = z.object({ host: z.string(), port: z.number().int() });

/** An exported enum: records keyed by it are keyed by its type. */
export const Plan = z.enum(["free", "pro"]);

/** Named like the runtime's `ClientCallOptions`: the client file must alias the runtime's. */
export const ClientCallOptions = z.object({
  limits: z.record(Plan, z.number().int()),
  overrides: z.partialRecord(Plan, z.string()),
  weights: z.record(z.union([z.literal("low"), z.literal("high")]), z.number()),
});

const sample = {
  id: "9b2f0d5e-1c1a-4b8e-9f7e-2d7c8a6b5e4f",
  email: "ada@example.com",
  nickname: null,
  age: 36,
  home: { street: "1 Loop Road", city: "London" },
  tags: ["math"],
  links: [],
  settings: { theme: "dark" as const, beta: false },
  scores: {},
  quota: { cpu: 2 },
  point: [1, 2] as [number, number],
  role: "admin" as const,
  extra: null,
};

export const profiles = new Service("profiles", { version: 2, description: "User profiles" })
  .method("get", {
    input: z.object({ id: z.uuid() }),
    output: Profile,
    description: "Reads a profile.",
  }, ({ id }) => ({ ...sample, id }))
  .method("update", {
    input: Profile,
    output: Profile,
    description: "Replaces a profile and returns it as stored (defaults filled in).",
  }, (profile) => profile)
  .method(
    "watch",
    { input: z.object({ id: z.uuid() }), output: streaming(Profile) },
    async function* ({ id }) {
      yield { ...sample, id };
    },
  )
  .method("delete", {
    input: z.object({ id: z.uuid() }),
    description: "Deletes a profile.",
    deprecated: "Use archive, which can be undone.",
  }, () => {})
  .method("archive", { input: z.object({ id: z.uuid() }) }, () => {});

export const legacyProfiles = new Service("profiles", { deprecated: "Use version 2." })
  .method("get", { input: z.object({ id: z.string() }), output: Profile }, () => sample);

export const drawing = new Service("drawing", { description: "Shapes, streamed" })
  .method("draw", {
    input: stream(Shape),
    output: z.object({ area: z.number(), count: z.number().int() }),
    description: "Adds up the area of the shapes sent.",
  }, async (shapes) => {
    let area = 0;
    let count = 0;
    for await (const shape of shapes) {
      area += shape.kind === "circle" ? Math.PI * shape.radius ** 2 : shape.width * shape.height;
      count++;
    }
    return { area, count };
  })
  .method("trace", {
    input: stream(z.union([z.string(), z.number()])),
    output: streaming(z.string()),
    description: "Echoes each value as text.",
  }, async function* (values) {
    for await (const value of values) yield String(value);
  })
  .method("ping", {}, () => {})
  .method("tree", { input: TreeNode, output: TreeNode }, (tree) => tree)
  .method("get_record", { input: z.object({ key: z.string() }), output: Record }, ({ key }) => ({
    key,
    value: key.toUpperCase(),
  }))
  .method(
    "getRecord",
    { output: z.array(Record), deprecated: "Use `get_record`, or `tree`." },
    () => [],
  );

export const types = new Service("types")
  .method("echo", { input: z.string(), output: z.string() }, (text) => text)
  .method("connect", { input: Connection, output: Connection }, (c) => c)
  .method("configure", { input: ClientCallOptions, output: ClientCallOptions }, (o) => o);

/** For the call options: what the server saw, and a call that waits for its deadline. */
export const probe = new Service("probe")
  .method("whoami", {
    output: z.object({ user: z.string().nullable(), deadline: z.boolean() }),
  }, (_, ctx) => ({ user: ctx.metadata.get("x-user"), deadline: ctx.deadline !== undefined }))
  .method("wait", {}, async (_, ctx) => {
    await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
    throw ctx.signal.reason ?? new RpcError("cancelled", "cancelled");
  })
  .method(
    "ticks",
    { output: streaming(z.object({ n: z.number().int() })) },
    async function* (_, ctx) {
      for (let n = 0; !ctx.signal.aborted; n++) {
        yield { n };
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    },
  );
