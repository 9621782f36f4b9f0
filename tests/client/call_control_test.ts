/**
 * A call's cancellation (src/client/call_control.ts): the caller's signal and the deadline become
 * one abort with an RpcError reason, heard by the call's state through `listen()`, and by a fetch
 * through `signal`, which is made only when asked for.
 */
import assert from "node:assert/strict";
import { sleep, test } from "../_harness.ts";
import { RpcError } from "../../mod.ts";
import { CallControl } from "../../src/client/call_control.ts";

test("CallControl.listen(): called once, with the reason, when the caller's signal aborts", () => {
  const caller = new AbortController();
  const control = new CallControl({ signal: caller.signal });
  const heard: RpcError[] = [];
  control.listen((reason) => heard.push(reason));
  assert.equal(control.reason, undefined);
  caller.abort("changed my mind");
  assert.equal(heard.length, 1);
  assert.equal(heard[0]!.code, "cancelled");
  assert.equal(heard[0]!.message, "The call was cancelled");
  assert.equal(heard[0]!.cause, "changed my mind");
  assert.equal(control.reason, heard[0]);
  control.abort(new RpcError("internal", "again")); // once aborted, it stays as it was
  assert.equal(heard.length, 1);
  assert.equal(control.reason, heard[0]);
  assert.equal(control.failure(new Error("network"), "Cannot reach x"), heard[0]);
});

test("CallControl.listen(): on a call aborted already, called at once", () => {
  const caller = new AbortController();
  caller.abort();
  const control = new CallControl({ signal: caller.signal });
  let heard: RpcError | undefined;
  control.listen((reason) => (heard = reason));
  assert.equal(heard?.code, "cancelled");
  assert.equal(heard, control.reason);
});

test("CallControl.signal: made on first use, aborted with the same reason, before or after", () => {
  const early = new CallControl({});
  const signal = early.signal;
  const order: string[] = [];
  signal.addEventListener("abort", () => order.push("signal"));
  early.listen(() => order.push("listener"));
  const reason = new RpcError("cancelled", "The connection was closed");
  early.abort(reason);
  assert.equal(signal.aborted, true);
  assert.equal(signal.reason, reason);
  assert.deepEqual(order, ["signal", "listener"], "a fetch hears first, then the call's state");
  assert.equal(early.signal, signal, "one signal per call");

  const late = new CallControl({});
  late.abort(reason);
  assert.equal(late.signal.aborted, true, "asked for after the abort: aborted already");
  assert.equal(late.signal.reason, reason);
});

test("CallControl: the deadline aborts with deadline_exceeded; dispose() stops its timer", async () => {
  const control = new CallControl({ timeoutMs: 1 });
  assert.equal(control.timeoutMs, 1);
  const heard = new Promise<RpcError>((resolve) => control.listen(resolve));
  const reason = await heard;
  assert.equal(reason.code, "deadline_exceeded");
  assert.equal(reason.message, "The deadline of 1 ms expired");
  assert.equal(control.signal.reason, reason);
  const quiet = new CallControl({ timeoutMs: 1 });
  quiet.dispose(); // the call ended first: its timer is gone
  await sleep(80);
  assert.equal(quiet.reason, undefined);
});
