/**
 * A service module that uses every protobuf mapping at once, for the tests that hand the output
 * to buf (lint, build, convert) and for the golden files: scalars of every kind, enums, oneofs,
 * JSON values, maps, wrapped lists, recursion, explicit numbers and reserved ones, every pattern,
 * and requests and responses that are not objects.
 */
import { Service, stream, streaming, z } from "../../mod.ts";

/** How far along a task is. */
export const Status = z.enum(["todo", "in-progress", "done"]).describe("How far along a task is");

export const Point = z.object({ x: z.number(), y: z.number() });

export const Shape = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("circle"), center: Point, radius: z.number().positive() }),
  z.object({ kind: z.literal("polygon"), points: z.array(Point).min(3) }),
]).describe("A shape: a circle or a polygon");

interface Folder {
  name: string;
  children: Folder[];
}
export const Folder: z.ZodType<Folder> = z.lazy(() =>
  z.object({ name: z.string(), children: z.array(Folder) })
);

export const Task = z.object({
  id: z.uuid(),
  title: z.string().min(1).describe("What to do"),
  status: Status,
  priority: z.number().int().min(1).max(5).default(3),
  estimate_hours: z.number().nonnegative().nullable(),
  tags: z.array(z.string()),
  labels: z.record(z.string(), z.string()),
  due: z.date().optional(),
  created_ms: z.number().int(),
  size_bytes: z.bigint().nonnegative(),
  checksum: z.base64(),
  shape: Shape.optional(),
  attachments: z.array(z.object({ name: z.string(), bytes: z.number().int().min(0) })),
  matrix: z.array(z.array(z.number())),
  notes: z.array(z.string().nullable()),
  extra: z.unknown(),
  either: z.union([z.string(), z.number()]).optional(),
  folder: Folder.optional(),
  ownerId: z.string().optional().meta({ deprecated: true, description: "Use owner" }),
}).meta({ protobuf: { fields: { id: 1, title: 2 }, reserved: [40, "legacy"] } });

export const tasks = new Service("tasks", { version: 1, description: "A to-do list" })
  .method("get", {
    input: z.object({ id: z.uuid() }),
    output: Task,
    description: "Reads one task.",
  }, () => {
    throw new Error("not used");
  })
  .method("list", {
    input: z.object({ status: Status.optional(), limit: z.number().int().min(1).max(1000) }),
    output: streaming(Task),
  }, async function* () {})
  .method("import_all", { input: stream(Task), output: z.number().int() }, () => 0)
  .method("sync", { input: stream(Task), output: streaming(Task) }, async function* () {})
  .method("rename", { input: z.string(), output: z.string().nullable() }, () => null)
  .method("touch", { input: z.date(), output: z.array(Task) }, () => [])
  .method("ping", {}, () => {})
  .method("status", { output: Status }, () => "todo" as const)
  .method("anything", { input: z.unknown(), output: z.unknown() }, (value) => value);
