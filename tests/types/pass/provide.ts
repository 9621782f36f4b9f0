/**
 * Typed values from middleware to handlers and dependencies: `ctx.provide(dependency, value)`
 * takes a value of the dependency's type, and handlers (`ctx.deps`, `ctx.get()`) and other
 * dependencies (`ctx.get()`) read it with that type. It works in app, service and method
 * middleware alike, with no type parameters on the service.
 */
import { dependency, MicroAPI, type Middleware, RpcError, Service, z } from "../../../mod.ts";
import { assertType, type IsExact } from "../_assert.ts";

interface User {
  name: string;
  roles: string[];
}

// Only middleware gives it a value: its resolver refuses.
const currentUser = dependency("currentUser", (): User => {
  throw new RpcError("unauthenticated", "Not signed in");
});

// Another dependency reads it through its ctx.get(), typed.
const isAdmin = dependency("isAdmin", async (ctx) => {
  const user = await ctx.get(currentUser);
  assertType<IsExact<typeof user, User>>();
  return user.roles.includes("admin");
});

const signIn: Middleware = (ctx, next) => {
  ctx.provide(currentUser, { name: "ada", roles: ["admin"] });
  return next();
};

const wrongValue: Middleware = (ctx, next) => {
  // @ts-expect-error the value must be a User: the dependency decides the type, not the value
  ctx.provide(currentUser, { name: "ada" });
  return next();
};

const notADependency: Middleware = (ctx, next) => {
  // @ts-expect-error only a dependency can be provided
  ctx.provide("currentUser", { name: "ada", roles: [] });
  return next();
};

export const service = new Service("s", { middleware: [signIn] }).method(
  "me",
  {
    output: z.object({ name: z.string(), admin: z.boolean() }),
    deps: { user: currentUser, admin: isAdmin },
    middleware: [signIn],
  },
  async (_input, ctx) => {
    assertType<IsExact<typeof ctx.deps.user, User>>();
    assertType<IsExact<typeof ctx.deps.admin, boolean>>();
    const again = await ctx.get(currentUser);
    assertType<IsExact<typeof again, User>>();
    return { name: ctx.deps.user.name, admin: ctx.deps.admin };
  },
);
new MicroAPI({ services: [service], middleware: [signIn, wrongValue, notADependency] });
