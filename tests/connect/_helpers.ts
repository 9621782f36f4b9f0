/**
 * Shared by the Connect tests: the fixture services with a few more for Connect's own features,
 * envelopes built and read by hand, and the protobuf registry clients use.
 */
import { createFileRegistry, type DescService, type FileRegistry } from "@bufbuild/protobuf";
import { fixtureServices, type Probe } from "../_fixtures.ts";
import { RpcError, Service, streaming, z } from "../../mod.ts";
import { fileDescriptorSet } from "../../src/protobuf/mod.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * The fixture services, plus `connect_only`: a GET-able lookup, a method that throws `cancelled`,
 * a big reply (compression), and an idempotent but not side-effect-free method.
 *
 * @returns The services and the probe.
 */
export function connectServices(): { services: Service[]; probe: Probe } {
  const { services, probe } = fixtureServices();
  const extra = new Service("extras", { version: 1 })
    .method("lookup", {
      input: z.object({ key: z.string(), tags: z.array(z.string()).default([]) }),
      output: z.object({ key: z.string(), tags: z.array(z.string()) }),
      idempotency: "no_side_effects",
    }, (input) => input)
    .method("store", {
      input: z.object({ key: z.string() }),
      output: z.object({ key: z.string() }),
      idempotency: "idempotent",
    }, (input) => input)
    .method("give_up", { output: z.object({ ok: z.boolean() }) }, () => {
      throw new RpcError("cancelled", "The handler gave up");
    })
    .method("big", {
      input: z.object({ size: z.number().int().min(0).max(1_000_000) }),
      output: z.object({ text: z.string() }),
    }, ({ size }) => ({ text: "x".repeat(size) }))
    .method("big_stream", {
      input: z.object({ size: z.number().int().min(0).max(1_000_000), count: z.number().int() }),
      output: streaming(z.object({ text: z.string() })),
    }, async function* ({ size, count }) {
      for (let i = 0; i < count; i++) yield { text: "y".repeat(size) };
    });
  return { services: [...services, extra], probe };
}

/**
 * The registry of the services' protobuf descriptors, as a client generated from the `.proto`
 * files would have it.
 *
 * @param services The services.
 * @returns The registry.
 */
export function registryOf(services: Service[]): FileRegistry {
  return createFileRegistry(fileDescriptorSet(services));
}

/**
 * A service's descriptor.
 *
 * @param registry The registry.
 * @param name The full name: `users.Users`.
 * @returns The descriptor.
 */
export function serviceDesc(registry: FileRegistry, name: string): DescService {
  const desc = registry.getService(name);
  if (!desc) throw new Error(`No service ${name} in the registry`);
  return desc;
}

/**
 * Frames messages as envelopes.
 *
 * @param parts Each a message (JSON value or bytes) and optional flags.
 * @returns The bytes.
 */
export function envelopes(
  ...parts: (Uint8Array | { json: unknown; flags?: number })[]
): Uint8Array {
  const chunks = parts.map((part) => {
    const flags = part instanceof Uint8Array ? 0 : part.flags ?? 0;
    const data = part instanceof Uint8Array ? part : encoder.encode(JSON.stringify(part.json));
    const out = new Uint8Array(5 + data.length);
    out[0] = flags;
    new DataView(out.buffer).setUint32(1, data.length);
    out.set(data, 5);
    return out;
  });
  const total = chunks.reduce((n, c) => n + c.length, 0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** One envelope read back. */
export interface ReadEnvelope {
  /** Its flags. */
  flags: number;
  /** Its payload. */
  data: Uint8Array;
  /** The payload as text. */
  text: string;
}

/**
 * Splits a body into its envelopes.
 *
 * @param bytes The body.
 * @returns The envelopes; throws on a truncated one.
 */
export function readEnvelopes(bytes: Uint8Array): ReadEnvelope[] {
  const out: ReadEnvelope[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 5) throw new Error(`Truncated envelope prefix at ${at}`);
    const flags = bytes[at]!;
    const length = new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4).getUint32(0);
    if (bytes.length - at - 5 < length) throw new Error(`Truncated envelope at ${at}`);
    const data = bytes.slice(at + 5, at + 5 + length);
    out.push({ flags, data, text: decoder.decode(data) });
    at += 5 + length;
  }
  return out;
}

/**
 * gzip-compresses bytes.
 *
 * @param data The bytes (strings are UTF-8 encoded).
 * @returns The compressed bytes.
 */
export async function gzip(data: Uint8Array | string): Promise<Uint8Array> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new CompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/**
 * gunzips bytes.
 *
 * @param data The compressed bytes.
 * @returns The bytes.
 */
export async function gunzip(data: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(
    new DecompressionStream("gzip"),
  );
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
