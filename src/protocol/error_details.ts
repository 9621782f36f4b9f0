import { FIXED64, LEN, ProtoReader, ProtoWireError, ProtoWriter, VARINT } from "./_proto_wire.ts";
import { base64Encode } from "./base64.ts";

/**
 * Error details as Connect and gRPC carry them: a list of typed protobuf messages, each a type
 * name and its binary encoding (Connect puts them in the error JSON, base64-encoded; gRPC and
 * gRPC-Web in a `google.rpc.Status` in the `grpc-status-details-bin` header).
 *
 * A MicroAPI error's `details` is any JSON value. It travels as one `google.protobuf.Value`
 * detail, which every protobuf runtime knows, so a Connect-Go, Connect-ES or gRPC client can
 * unpack it (Connect also gets the plain JSON in the detail's `debug` field). Reading works the
 * other way: a single `google.protobuf.Value` detail becomes `details` again; any other list is
 * kept as it came, each entry `{ type, value (base64), debug? }`.
 */

/** The type name of the detail that carries a MicroAPI error's JSON details. */
export const VALUE_TYPE = "google.protobuf.Value";

/** The type URL prefix of `google.protobuf.Any`. */
export const TYPE_URL_PREFIX = "type.googleapis.com/";

/** One detail on the wire. */
export interface WireDetail {
  /** The fully-qualified protobuf message name: `google.protobuf.Value`. */
  type: string;
  /** The message's binary encoding. */
  value: Uint8Array;
  /** Connect only: the message as JSON, for people reading the wire. */
  debug?: unknown;
}

/** How deep a Value may nest, in either direction. */
const MAX_DEPTH = 64;

/**
 * The wire details for an error's `details`.
 *
 * @param details The error's details (any JSON-serialisable value), or undefined.
 * @returns No entries for undefined (or a value JSON cannot represent), else one Value entry.
 */
export function detailsToWire(details: unknown): WireDetail[] {
  if (details === undefined) return [];
  let json: unknown;
  try {
    const text = JSON.stringify(details);
    if (text === undefined) return [];
    json = JSON.parse(text);
  } catch {
    return [];
  }
  return [{ type: VALUE_TYPE, value: encodeValue(json), debug: json }];
}

/**
 * An error's `details` from the wire details.
 *
 * @param details The details received.
 * @returns undefined for none; the JSON value of a single decodable `google.protobuf.Value`;
 * otherwise the list as `{ type, value (base64), debug? }` objects.
 */
export function detailsFromWire(details: readonly WireDetail[]): unknown {
  if (details.length === 0) return undefined;
  if (details.length === 1 && details[0]!.type === VALUE_TYPE) {
    const decoded = decodeValue(details[0]!.value);
    if (decoded.ok) return decoded.value;
  }
  return details.map((detail) => {
    const entry: Record<string, unknown> = {
      type: detail.type,
      value: base64Encode(detail.value, { pad: false }),
    };
    if (detail.debug !== undefined) entry.debug = detail.debug;
    return entry;
  });
}

/**
 * Encodes a JSON value as a `google.protobuf.Value`. Nesting deeper than 64 levels is cut off
 * (the deeper part becomes null); the `debug` copy keeps it whole.
 *
 * @param value A JSON value (as JSON.parse returns).
 * @returns The binary encoding.
 */
export function encodeValue(value: unknown): Uint8Array {
  const writer = new ProtoWriter();
  writeValue(writer, value, 0);
  return writer.finish();
}

function writeValue(writer: ProtoWriter, value: unknown, depth: number): void {
  if (value === null || value === undefined || depth >= MAX_DEPTH) {
    writer.varint(1, 0);
  } else if (typeof value === "number") {
    writer.double(2, value);
  } else if (typeof value === "string") {
    writer.bytes(3, value);
  } else if (typeof value === "boolean") {
    writer.varint(4, value ? 1 : 0);
  } else if (Array.isArray(value)) {
    const list = new ProtoWriter();
    for (const item of value) list.bytes(1, nested(item, depth + 1));
    writer.bytes(6, list.finish());
  } else if (typeof value === "object") {
    const struct = new ProtoWriter();
    for (const [key, item] of Object.entries(value)) {
      const entry = new ProtoWriter();
      entry.bytes(1, key);
      entry.bytes(2, nested(item, depth + 1));
      struct.bytes(1, entry.finish());
    }
    writer.bytes(5, struct.finish());
  } else {
    writer.varint(1, 0);
  }
}

function nested(value: unknown, depth: number): Uint8Array {
  const writer = new ProtoWriter();
  writeValue(writer, value, depth);
  return writer.finish();
}

/**
 * Decodes a `google.protobuf.Value` into a JSON value.
 *
 * @param bytes The binary encoding.
 * @returns `{ ok: true, value }`, or `{ ok: false }` for malformed or too deeply nested input.
 */
export function decodeValue(bytes: Uint8Array): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: readValue(bytes, 0) };
  } catch (error) {
    if (error instanceof ProtoWireError) return { ok: false };
    throw error;
  }
}

function expect(wire: number, expected: number): void {
  if (wire !== expected) throw new ProtoWireError(`wire type ${wire}, expected ${expected}`);
}

function readValue(bytes: Uint8Array, depth: number): unknown {
  if (depth > MAX_DEPTH) throw new ProtoWireError("nested too deeply");
  const reader = new ProtoReader(bytes);
  // An empty Value (no kind set) reads as null, as in the protobuf JSON mapping.
  let value: unknown = null;
  while (!reader.done) {
    const { field, wire } = reader.tag();
    switch (field) {
      case 1:
        expect(wire, VARINT);
        reader.varint();
        value = null;
        break;
      case 2:
        expect(wire, FIXED64);
        value = reader.double();
        break;
      case 3:
        expect(wire, LEN);
        value = reader.string();
        break;
      case 4:
        expect(wire, VARINT);
        value = reader.varint() !== 0;
        break;
      case 5:
        expect(wire, LEN);
        value = readStruct(reader.bytes(), depth + 1);
        break;
      case 6:
        expect(wire, LEN);
        value = readList(reader.bytes(), depth + 1);
        break;
      default:
        reader.skip(wire);
    }
  }
  return value;
}

function readStruct(bytes: Uint8Array, depth: number): Record<string, unknown> {
  const reader = new ProtoReader(bytes);
  const out: Record<string, unknown> = {};
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field !== 1) {
      reader.skip(wire);
      continue;
    }
    expect(wire, LEN);
    const entry = new ProtoReader(reader.bytes());
    let key = "";
    let value: unknown = null;
    while (!entry.done) {
      const tag = entry.tag();
      if (tag.field === 1) {
        expect(tag.wire, LEN);
        key = entry.string();
      } else if (tag.field === 2) {
        expect(tag.wire, LEN);
        value = readValue(entry.bytes(), depth + 1);
      } else {
        entry.skip(tag.wire);
      }
    }
    // defineProperty, not assignment: a key named "__proto__" must stay an ordinary key.
    Object.defineProperty(out, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

function readList(bytes: Uint8Array, depth: number): unknown[] {
  const reader = new ProtoReader(bytes);
  const out: unknown[] = [];
  while (!reader.done) {
    const { field, wire } = reader.tag();
    if (field !== 1) {
      reader.skip(wire);
      continue;
    }
    expect(wire, LEN);
    out.push(readValue(reader.bytes(), depth + 1));
  }
  return out;
}

/** A `google.rpc.Status`: what gRPC carries in `grpc-status-details-bin`. */
export interface RpcStatus {
  /** The gRPC status code number. */
  code: number;
  /** The message. */
  message: string;
  /** The details, with type names (the `type.googleapis.com/` prefix removed). */
  details: WireDetail[];
}

/**
 * Encodes a `google.rpc.Status`.
 *
 * @param status The status.
 * @returns The binary encoding.
 */
export function encodeStatus(status: RpcStatus): Uint8Array {
  const writer = new ProtoWriter();
  if (status.code !== 0) writer.varint(1, status.code);
  if (status.message !== "") writer.bytes(2, status.message);
  for (const detail of status.details) {
    const any = new ProtoWriter();
    any.bytes(1, TYPE_URL_PREFIX + detail.type);
    any.bytes(2, detail.value);
    writer.bytes(3, any.finish());
  }
  return writer.finish();
}

/**
 * Decodes a `google.rpc.Status`.
 *
 * @param bytes The binary encoding.
 * @returns The status, or undefined when the bytes are not a valid Status.
 */
export function decodeStatus(bytes: Uint8Array): RpcStatus | undefined {
  try {
    const reader = new ProtoReader(bytes);
    const status: RpcStatus = { code: 0, message: "", details: [] };
    while (!reader.done) {
      const { field, wire } = reader.tag();
      if (field === 1) {
        expect(wire, VARINT);
        status.code = reader.varint();
      } else if (field === 2) {
        expect(wire, LEN);
        status.message = reader.string();
      } else if (field === 3) {
        expect(wire, LEN);
        const any = new ProtoReader(reader.bytes());
        let typeUrl = "";
        let value: Uint8Array = new Uint8Array(0);
        while (!any.done) {
          const tag = any.tag();
          if (tag.field === 1) {
            expect(tag.wire, LEN);
            typeUrl = any.string();
          } else if (tag.field === 2) {
            expect(tag.wire, LEN);
            value = any.bytes().slice();
          } else {
            any.skip(tag.wire);
          }
        }
        status.details.push({ type: typeUrl.slice(typeUrl.lastIndexOf("/") + 1), value });
      } else {
        reader.skip(wire);
      }
    }
    return status;
  } catch (error) {
    if (error instanceof ProtoWireError) return undefined;
    throw error;
  }
}
