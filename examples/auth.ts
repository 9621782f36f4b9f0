/**
 * The auth recipe: a bearer-token middleware that refuses anonymous calls before their input is
 * read and provides the signed-in account to the call, a `currentUser` dependency that handlers
 * declare (its value comes from the middleware: the token is looked up once per call), and a role
 * check that answers `permission_denied`. It works the same over HTTP and WebSocket: a WebSocket
 * call carries its metadata in its open frame, so per-call tokens work even where browsers cannot
 * set headers.
 *
 *   curl -s localhost:8080/accounts/me -H 'authorization: Bearer t-alice' \
 *     -H 'content-type: application/json' -X POST
 */
import {
  type Dependency,
  dependency,
  type Middleware,
  type MiddlewareContext,
  type Next,
  type Outcome,
  RpcError,
  Service,
  z,
} from "../mod.ts";

/** A signed-in user. */
export const Account = z.object({ name: z.string(), roles: z.array(z.string()) });
type Account = z.infer<typeof Account>;

/**
 * The token store of this example; a real app would verify a JWT or ask a session store. It
 * counts its lookups, which the recipe makes once per call.
 */
export class SessionStore {
  #accounts: Map<string, Account>;
  /** How many times a token was looked up. */
  lookups = 0;

  /**
   * Creates the store.
   *
   * @param accounts The accounts, by token.
   */
  constructor(accounts: Iterable<[string, Account]>) {
    this.#accounts = new Map(accounts);
  }

  /**
   * Finds the account a token belongs to.
   *
   * @param token A bearer token.
   * @returns The account, or undefined for an unknown or expired token.
   */
  find(token: string): Account | undefined {
    this.lookups++;
    return this.#accounts.get(token);
  }
}

/** The sessions of this example. */
export const sessions: SessionStore = new SessionStore([
  ["t-alice", { name: "alice", roles: ["admin"] }],
  ["t-bob", { name: "bob", roles: [] }],
]);

function bearerToken(headers: Headers): string | undefined {
  const header = headers.get("authorization") ?? "";
  return header.startsWith("Bearer ") ? header.slice("Bearer ".length).trim() : undefined;
}

/**
 * The account behind the call's token. Only {@linkcode bearerAuth} gives it a value; a method that
 * declares it without the middleware in front is refused.
 */
export const currentUser: Dependency<Account> = dependency("currentUser", (): Account => {
  throw new RpcError(
    "unauthenticated",
    "Not signed in: this method needs the bearerAuth middleware",
  );
});

/**
 * Refuses calls without a valid bearer token, before anything else runs, and provides the account
 * to the rest of the call as {@linkcode currentUser}.
 */
export const bearerAuth: Middleware = (ctx: MiddlewareContext, next: Next): Promise<Outcome> => {
  const token = bearerToken(ctx.metadata);
  if (!token) {
    throw new RpcError(
      "unauthenticated",
      "Missing bearer token: send authorization: Bearer <token>",
    );
  }
  const account = sessions.find(token);
  if (!account) throw new RpcError("unauthenticated", "Unknown or expired token");
  ctx.provide(currentUser, account);
  return next();
};

/**
 * A dependency that lets only users with a role through.
 *
 * @param role The role required.
 * @returns The dependency; its value is the account.
 */
export function requireRole(role: string): Dependency<Account> {
  return dependency(`role:${role}`, async (ctx): Promise<Account> => {
    const account = await ctx.get(currentUser);
    if (!account.roles.includes(role)) {
      throw new RpcError("permission_denied", `${account.name} lacks the ${role} role`, {
        details: { required: role },
      });
    }
    return account;
  });
}

/** Accounts: who is calling, and an admin-only method. */
export const accounts = new Service("accounts", {
  description: "Signed-in users",
  middleware: [bearerAuth],
})
  .method("me", {
    output: Account,
    deps: { user: currentUser },
    description: "The account making the call.",
  }, (_input, ctx) => ctx.deps.user)
  .method("close_account", {
    input: z.object({ name: z.string() }),
    output: z.object({ closed: z.string(), by: z.string() }),
    deps: { admin: requireRole("admin") },
    description: "Closes someone's account (admins only).",
  }, ({ name }, ctx) => ({ closed: name, by: ctx.deps.admin.name }));
