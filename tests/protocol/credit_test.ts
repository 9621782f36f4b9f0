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
