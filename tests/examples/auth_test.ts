/** The auth recipe of examples/auth.ts, on every transport. */
import assert from "node:assert/strict";
import { rejection } from "../_harness.ts";
import { connect, eachTransport } from "../_transports.ts";
import { MicroAPI, RpcError, Service, z } from "../../mod.ts";
import { Account, accounts, currentUser, requireRole, sessions } from "../../examples/auth.ts";

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

eachTransport(
  "auth recipe: each call looks its token up once, however many dependencies need the account",
  async (t) => {
    await using alice = await connect(new MicroAPI({ services: [accounts] }), t, {
      authorization: "Bearer t-alice",
    });
    const before = sessions.lookups;
    // close_account needs requireRole("admin"), which needs currentUser: one lookup, in bearerAuth.
    await alice.connection.unary("accounts/close_account", { name: "carol" });
    assert.equal(sessions.lookups - before, 1);
    await alice.connection.unary("accounts/me");
    assert.equal(sessions.lookups - before, 2);
  },
);

eachTransport(
  "auth recipe: a method that needs the user without bearerAuth in front is refused",
  async (t) => {
    const careless = new Service("careless")
      .method(
        "me",
        { output: Account, deps: { user: currentUser } },
        (_input, ctx) => ctx.deps.user,
      )
      .method("admin", { output: z.object({}), deps: { admin: requireRole("admin") } }, () => ({}));
    await using c = await connect(new MicroAPI({ services: [careless] }), t, {
      authorization: "Bearer t-alice",
    });
    for (const method of ["careless/me", "careless/admin"]) {
      const error = await rejection(c.connection.unary(method));
      assert.equal(code(error), "unauthenticated", method);
      assert.equal(
        (error as Error).message,
        "Not signed in: this method needs the bearerAuth middleware",
      );
    }
  },
);
