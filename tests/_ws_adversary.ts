/**
 * A WebSocket client written over a bare TCP socket (`node:net`, the same on Deno and Bun), for
 * tests that need what no WebSocket API allows: to stop reading while the server writes, to send
 * frame headers that announce more than follows, to hold connections that never send a request.
 */
import { connect, type Socket } from "node:net";
import { Buffer } from "node:buffer";

/** A raw client connection. */
export interface Adversary {
  /** The TCP socket. */
  readonly socket: Socket;
  /** Text frames received while reading, split into the protocol's frames. */
  readonly frames: Record<string, unknown>[];
  /** Resolves with the server's close code once a close frame or the end of the connection arrives (1006 without a close frame). */
  readonly closed: Promise<number>;
  /**
   * Sends one masked text message.
   *
   * @param text The message.
   * @returns Whether the kernel took it all at once.
   */
  sendText(text: string): boolean;
  /**
   * Sends bytes as they are (a frame header alone, say).
   *
   * @param bytes The bytes.
   */
  sendRaw(bytes: Uint8Array): void;
  /** Stops reading: the server's writes pile up in the kernel, then in the server. */
  pause(): void;
  /** Reads again. */
  resume(): void;
  /** Closes the connection at once. */
  destroy(): void;
}

/**
 * Opens a WebSocket to an app's endpoint by hand and waits for the 101.
 *
 * @param port The server's port on 127.0.0.1.
 * @param path The endpoint's path.
 * @returns The connection, reading.
 */
export async function adversary(port: number, path = "/_microapi/ws"): Promise<Adversary> {
  const socket = connect(port, "127.0.0.1");
  socket.setNoDelay(true);
  const frames: Record<string, unknown>[] = [];
  let buffer = Buffer.alloc(0);
  let upgraded = false;
  let closeCode: ((code: number) => void) | undefined;
  const closed = new Promise<number>((resolve) => (closeCode = resolve));
  const opened = Promise.withResolvers<void>();
  socket.on("error", () => {});
  socket.on("close", () => {
    closeCode?.(1006);
    opened.reject(new Error("the connection closed before the upgrade"));
  });
  socket.on("data", (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    if (!upgraded) {
      const end = buffer.indexOf("\r\n\r\n");
      if (end === -1) return;
      const head = buffer.subarray(0, end).toString();
      buffer = buffer.subarray(end + 4);
      if (!head.startsWith("HTTP/1.1 101")) {
        opened.reject(new Error(`upgrade refused: ${head.split("\r\n")[0]}`));
        socket.destroy();
        return;
      }
      upgraded = true;
      opened.resolve();
    }
    for (;;) {
      const frame = readFrame(buffer);
      if (!frame) return;
      buffer = buffer.subarray(frame.size);
      if (frame.opcode === 1) {
        for (const line of frame.payload.toString().split("\n")) {
          if (line !== "") frames.push(JSON.parse(line));
        }
      } else if (frame.opcode === 8) {
        closeCode?.(frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : 1005);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
      "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n" +
      "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: microapi.v1\r\n\r\n",
  );
  await opened.promise;
  return {
    socket,
    frames,
    closed,
    sendText: (text) => socket.write(encodeFrame(1, Buffer.from(text))),
    sendRaw: (bytes) => void socket.write(bytes),
    pause: () => void socket.pause(),
    resume: () => void socket.resume(),
    destroy: () => void socket.destroy(),
  };
}

/**
 * The header of a masked client frame, announcing a payload of `length` bytes.
 *
 * @param opcode 1 for text.
 * @param length The announced payload length.
 * @returns The header, with its (zero) mask key.
 */
export function frameHeader(opcode: number, length: number): Uint8Array {
  if (length < 126) return Uint8Array.of(0x80 | opcode, 0x80 | length, 0, 0, 0, 0);
  if (length < 65536) {
    return Uint8Array.of(0x80 | opcode, 0x80 | 126, length >> 8, length & 255, 0, 0, 0, 0);
  }
  const header = Buffer.alloc(14);
  header[0] = 0x80 | opcode;
  header[1] = 0x80 | 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return header;
}

/** A masked client frame; the mask key is zero, so the payload goes as it is. */
function encodeFrame(opcode: number, payload: Buffer): Buffer {
  return Buffer.concat([frameHeader(opcode, payload.length), payload]);
}

/** One server frame (unmasked) from the start of a buffer, or undefined if it is not all there. */
function readFrame(
  buffer: Buffer,
): { opcode: number; payload: Buffer; size: number } | undefined {
  if (buffer.length < 2) return undefined;
  const opcode = buffer[0]! & 15;
  let length = buffer[1]! & 127;
  let offset = 2;
  if (length === 126) {
    if (buffer.length < 4) return undefined;
    length = buffer.readUInt16BE(2);
    offset = 4;
  } else if (length === 127) {
    if (buffer.length < 10) return undefined;
    length = Number(buffer.readBigUInt64BE(2));
    offset = 10;
  }
  if (buffer.length < offset + length) return undefined;
  return { opcode, payload: buffer.subarray(offset, offset + length), size: offset + length };
}
