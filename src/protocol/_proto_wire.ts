/**
 * The few protobuf wire-format primitives the error details need (google.protobuf.Value and
 * google.rpc.Status): varints, length-delimited fields, doubles. Private to src/protocol/; the
 * reader treats its input as hostile and throws {@linkcode ProtoWireError} on anything malformed.
 */

/** Wire types used here. */
export const VARINT = 0, FIXED64 = 1, LEN = 2, FIXED32 = 5;

/** Malformed protobuf input. */
export class ProtoWireError extends Error {
  /** @param message What was wrong. */
  constructor(message: string) {
    super(message);
    this.name = "ProtoWireError";
  }
}

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Appends protobuf fields to a growing byte list. */
export class ProtoWriter {
  #bytes: number[] = [];

  /**
   * Writes a varint field.
   *
   * @param field The field number.
   * @param value A non-negative safe integer.
   */
  varint(field: number, value: number): void {
    this.#tag(field, VARINT);
    this.#varint(value);
  }

  /**
   * Writes a double field.
   *
   * @param field The field number.
   * @param value The number.
   */
  double(field: number, value: number): void {
    this.#tag(field, FIXED64);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value, true);
    for (const byte of bytes) this.#bytes.push(byte);
  }

  /**
   * Writes a length-delimited field.
   *
   * @param field The field number.
   * @param value The bytes, or a string (written as UTF-8).
   */
  bytes(field: number, value: Uint8Array | string): void {
    const data = typeof value === "string" ? utf8.encode(value) : value;
    this.#tag(field, LEN);
    this.#varint(data.length);
    for (const byte of data) this.#bytes.push(byte);
  }

  /** @returns The bytes written. */
  finish(): Uint8Array {
    return Uint8Array.from(this.#bytes);
  }

  #tag(field: number, wire: number): void {
    this.#varint(field * 8 + wire);
  }

  #varint(value: number): void {
    let rest = value;
    while (rest >= 0x80) {
      this.#bytes.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.#bytes.push(rest);
  }
}

/** Reads protobuf fields from bytes, one at a time. */
export class ProtoReader {
  #bytes: Uint8Array;
  #pos = 0;

  /** @param bytes The message bytes. */
  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** True when every byte has been read. */
  get done(): boolean {
    return this.#pos >= this.#bytes.length;
  }

  /**
   * Reads a field's tag.
   *
   * @returns The field number and wire type.
   */
  tag(): { field: number; wire: number } {
    const tag = this.varint();
    const field = Math.floor(tag / 8);
    if (field === 0) throw new ProtoWireError("field number 0");
    return { field, wire: tag % 8 };
  }

  /**
   * Reads a varint (at most 2^53 - 1; larger values are not needed here and are refused).
   *
   * @returns The value.
   */
  varint(): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.#pos >= this.#bytes.length) throw new ProtoWireError("truncated varint");
      const byte = this.#bytes[this.#pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(value)) throw new ProtoWireError("varint too large");
        return value;
      }
      scale *= 0x80;
    }
    throw new ProtoWireError("varint longer than 10 bytes");
  }

  /** @returns A double. */
  double(): number {
    const bytes = this.#advance(8);
    return new DataView(bytes.buffer, bytes.byteOffset, 8).getFloat64(0, true);
  }

  /** @returns The bytes of a length-delimited field (a view, not a copy). */
  bytes(): Uint8Array {
    return this.#advance(this.varint());
  }

  /** @returns A length-delimited field as strict UTF-8. */
  string(): string {
    try {
      return strictUtf8.decode(this.bytes());
    } catch (error) {
      if (error instanceof ProtoWireError) throw error;
      throw new ProtoWireError("string is not UTF-8");
    }
  }

  /**
   * Skips a field's value.
   *
   * @param wire The field's wire type.
   */
  skip(wire: number): void {
    switch (wire) {
      case VARINT:
        this.varint();
        return;
      case FIXED64:
        this.#advance(8);
        return;
      case LEN:
        this.bytes();
        return;
      case FIXED32:
        this.#advance(4);
        return;
      default:
        throw new ProtoWireError(`unsupported wire type ${wire}`);
    }
  }

  #advance(n: number): Uint8Array {
    if (n > this.#bytes.length - this.#pos) throw new ProtoWireError("field runs past the end");
    const view = this.#bytes.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return view;
  }
}
