/**
 * The credit window of src/protocol/credit.ts, which both sides of the WebSocket protocol use
 * (server/ws_call.ts, client/ws_client_call.ts). The end-to-end flow control over real sockets
 * is in tests/e2e/ws_flow_test.ts.
 */
import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { InboundCredit, OutboundCredit } from "../../src/protocol/credit.ts";

test("OutboundCredit: take() spends the window, then refuses until a grant", () => {
  const credit = new OutboundCredit(2);
  assert.equal(credit.take(), true);
  assert.equal(credit.take(), true);
  assert.equal(credit.take(), false);
  assert.equal(credit.available, 0);
  credit.grant(3);
  assert.equal(credit.available, 3);
  assert.equal(credit.take(), true);
  assert.equal(credit.available, 2);
});

test("OutboundCredit: ready() waits for a grant, or for release(), and not after either", async () => {
  const credit = new OutboundCredit(0);
  let woken = 0;
  const first = credit.ready().then(() => woken++);
  const second = credit.ready().then(() => woken++);
  await Promise.resolve();
  assert.equal(woken, 0);
  credit.grant(1);
  await Promise.all([first, second]);
  assert.equal(woken, 2);
  // Credit is there: no wait.
  await credit.ready();
  assert.equal(credit.take(), true);

  const waiting = credit.ready();
  credit.release();
  await waiting;
  // Released: never waits again, though there is no credit.
  await credit.ready();
  assert.equal(credit.take(), false);
});

test("InboundCredit: refuses a message beyond the credit granted", () => {
  const credit = new InboundCredit(4);
  for (let i = 0; i < 4; i++) assert.equal(credit.receive(), true, `message ${i}`);
  assert.equal(credit.receive(), false);
});

test("InboundCredit: grants credit back in batches of half the window, as messages are consumed", () => {
  const credit = new InboundCredit(4);
  for (let i = 0; i < 4; i++) credit.receive();
  assert.equal(credit.consume(), 0);
  assert.equal(credit.consume(), 2);
  // The peer may now send two more, and no more.
  assert.equal(credit.receive(), true);
  assert.equal(credit.receive(), true);
  assert.equal(credit.receive(), false);
  assert.equal(credit.consume(), 0);
  assert.equal(credit.consume(), 2);

  const odd = new InboundCredit(3);
  assert.equal(odd.consume(), 0);
  assert.equal(odd.consume(), 2);
  const one = new InboundCredit(1);
  assert.equal(one.consume(), 1);
});

test("OutboundCredit with a byte window: sends while byte credit is left, one message may cross it", () => {
  const credit = new OutboundCredit(10, { bytes: 250 });
  assert.equal(credit.take(100), true);
  assert.equal(credit.take(100), true);
  assert.equal(credit.availableBytes, 50);
  // 50 bytes left: the next message goes, whatever its size, and then nothing does.
  assert.equal(credit.take(400), true);
  assert.equal(credit.availableBytes, -350);
  assert.equal(credit.take(1), false);
  assert.equal(credit.available, 7, "messages are left; bytes are not");
  assert.equal(credit.outstanding, 3);
});

test("OutboundCredit with a byte window: a grant frees the bytes of the oldest messages, never more than were sent", () => {
  const credit = new OutboundCredit(4, { bytes: 300 });
  for (const size of [100, 150, 50]) assert.equal(credit.take(size), true);
  assert.equal(credit.take(1), false);
  credit.grant(1); // the 100-byte message
  assert.equal(credit.availableBytes, 100);
  assert.equal(credit.available, 2);
  credit.grant(1_000_000); // a hostile grant: only the two messages in flight count
  assert.equal(credit.availableBytes, 300);
  assert.equal(credit.available, 4);
  assert.equal(credit.outstanding, 0);
});

test("OutboundCredit with a byte window: a message larger than the window goes alone", async () => {
  const credit = new OutboundCredit(8, { bytes: 64 });
  assert.equal(credit.take(1000), true);
  assert.equal(credit.take(1000), false);
  let woken = false;
  const waiting = credit.ready().then(() => woken = true);
  await Promise.resolve();
  assert.equal(woken, false, "ready() waits for byte credit too");
  credit.grant(1);
  await waiting;
  assert.equal(credit.take(1000), true);
});

test("InboundCredit with a byte window: refuses a message once the bytes in flight reach it", () => {
  const credit = new InboundCredit(100, { bytes: 250 });
  assert.equal(credit.receive(100), true);
  assert.equal(credit.receive(100), true);
  assert.equal(credit.receive(400), true, "the message that crosses the window is allowed");
  assert.equal(credit.receive(1), false);
});

test("InboundCredit with a byte window: grants after half the bytes are consumed, naming messages", () => {
  const credit = new InboundCredit(100, { bytes: 1000 });
  for (const size of [300, 300, 300, 300]) assert.equal(credit.receive(size), true);
  assert.equal(credit.receive(1), false);
  assert.equal(credit.consume(), 0, "300 bytes consumed: under half the window");
  assert.equal(credit.consume(), 2, "600 bytes: two messages' room back");
  assert.equal(credit.receive(300), true);
  assert.equal(credit.receive(300), true);
  assert.equal(credit.receive(1), false);
});

test("Outbound and InboundCredit: seeded random sizes and reads never break the window nor stall", () => {
  // A sender and a receiver through an in-order channel, credit frames going the other way:
  // every message the sender's credit allows is accepted, and the stream always completes.
  let seed = 42;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let round = 0; round < 50; round++) {
    const window = 1 + Math.floor(random() * 20);
    const bytes = 1 + Math.floor(random() * 5000);
    const sender = new OutboundCredit(window, { bytes });
    const receiver = new InboundCredit(window, { bytes });
    const toReceiver: number[] = [];
    const toSender: number[] = [];
    const unread: number[] = [];
    let sent = 0;
    let read = 0;
    const total = 300;
    for (let step = 0; read < total; step++) {
      assert.ok(step < 100_000, `round ${round}: stalled after ${read} of ${total}`);
      const size = 1 + Math.floor(random() * bytes * 1.5);
      if (sent < total && sender.take(size)) {
        toReceiver.push(size);
        sent++;
      }
      if (toReceiver.length > 0 && random() < 0.7) {
        const arriving = toReceiver.shift()!;
        assert.equal(receiver.receive(arriving), true, `round ${round}: a message without credit`);
        unread.push(arriving);
      }
      if (unread.length > 0 && random() < 0.5) {
        unread.shift();
        read++;
        const n = receiver.consume();
        if (n > 0) toSender.push(n);
      }
      if (toSender.length > 0 && random() < 0.7) sender.grant(toSender.shift()!);
    }
    assert.equal(read, total);
  }
});
