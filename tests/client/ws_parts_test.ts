/**
 * The client's WebSocket parts (docs/protocol.md): a text longer than the part size leaves as
 * messages of at most that many UTF-8 bytes, each but the last marked `+`, and joins back to
 * the text; a text within it leaves whole.
 */
import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { sendInParts } from "../../src/client/ws_link.ts";

function split(text: string, maxBytes: number): string[] {
  const sent: string[] = [];
  sendInParts({ api: "plain", send: (t) => sent.push(t), close: () => {} }, maxBytes)(text);
  return sent;
}

const bytes = (text: string) => new TextEncoder().encode(text).length;

test("sendInParts: within the size the text leaves whole; longer, in parts that join back", () => {
  assert.deepEqual(split("x".repeat(1024), 1024), ["x".repeat(1024)]);
  const samples = [
    "x".repeat(1025),
    "x".repeat(5000),
    "é".repeat(700), // 2 bytes each: 1400 bytes in 700 characters
    "日本".repeat(400), // 3 bytes each
    "a😀".repeat(500), // a surrogate pair (4 bytes) after each "a"
    "😀".repeat(300) + "\ud800" + "x".repeat(2000), // and a lone surrogate (3 bytes as U+FFFD)
  ];
  for (const text of samples) {
    const parts = split(text, 1024);
    assert.ok(parts.length > 1, `${text.slice(0, 8)}... was sent whole`);
    for (const [i, part] of parts.entries()) {
      assert.ok(bytes(part) <= 1024, `part ${i} is ${bytes(part)} bytes`);
      assert.equal(part.startsWith("+"), i < parts.length - 1);
      // No piece ends inside a surrogate pair (the last sample has a lone one of its own).
      if (text.isWellFormed()) assert.ok(part.isWellFormed(), `part ${i} splits a pair`);
    }
    assert.equal(parts.map((p, i) => i < parts.length - 1 ? p.slice(1) : p).join(""), text);
  }
});

test("sendInParts: a text of exactly the size, in any mix of widths, leaves whole", () => {
  for (
    const text of ["x".repeat(1024), "é".repeat(512), "日".repeat(340) + "xxxx", "😀".repeat(256)]
  ) {
    assert.equal(bytes(text), 1024);
    assert.deepEqual(split(text, 1024), [text]);
    assert.equal(split(text + "x", 1024).length, 2);
  }
});
