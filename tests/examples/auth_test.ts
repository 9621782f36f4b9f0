/** The auth recipe of examples/auth.ts, on every transport. */
import assert from "node:assert/strict";
import { rejection } from "../_harness.ts";
import { connect, eachTransport } from "../_transports.ts";
import { MicroAPI, RpcError } from "../../mod.ts";
import { accounts } from "../../examples/auth.ts";

function code(error: unknown): string {
  assert.ok(RpcError.is(error), `expected an RpcError, got ${error}`);
  return error.code;
}

eachTransport("auth recipe: no token or a bad one is unauthenticated", async (t) => {
  await using anonymous = await connect(new MicroAPI({ services: [accounts] }), t);
  const missing = await rejection(anonymous.connection.unary("accounts/me"));
  assert.equal(code(missing), "unauthenticated");
  assert.match((missing as Error).message, /Missing bearer token/);
  const bad = await rejection(
    anonymous.connection.unary("accounts/me", undefined, {
      metadata: { authorization: "Bearer nope" },
    }),
  );
  assert.equal(code(bad), "unauthenticated");
  assert.equal((bad as Error).message, "Unknown or expired token");
});

eachTransport("auth recipe: a signed-in user gets their account", async (t) => {
  await using bob = await connect(new MicroAPI({ services: [accounts] }), t, {
    authorization: "Bearer t-bob",
  });
  assert.deepEqual(await bob.connection.unary("accounts/me"), { name: "bob", roles: [] });
});

eachTransport(
  "auth recipe: a user without the role is permission_denied; an admin may",
  async (t) => {
    const app = new MicroAPI({ services: [accounts] });
    await using bob = await connect(app, t, { authorization: "Bearer t-bob" });
    const denied = await rejection(
      bob.connection.unary("accounts/close_account", { name: "carol" }),
    );
    assert.equal(code(denied), "permission_denied");
    assert.equal((denied as Error).message, "bob lacks the admin role");
    assert.deepEqual((denied as RpcError).details, { required: "admin" });
    const alice = await connect(new MicroAPI({ services: [accounts] }), t, {
      authorization: "Bearer t-alice",
    });
    try {
      assert.deepEqual(await alice.connection.unary("accounts/close_account", { name: "carol" }), {
        closed: "carol",
        by: "alice",
      });
    } finally {
      await alice[Symbol.asyncDispose]();
    }
  },
);
