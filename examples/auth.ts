/**
 * The auth recipe: a bearer-token middleware that refuses anonymous calls before their input is
 * read, a `currentUser` dependency that handlers declare, and a role check that answers
 * `permission_denied`. It works the same over HTTP and WebSocket: a WebSocket call carries its
 * metadata in its open frame, so per-call tokens work even where browsers cannot set headers.
 *
 *   curl -s localhost:8080/accounts/me -H 'authorization: Bearer t-alice' -X POST
 */
import {
  type Context,
  type Dependency,
  dependency,
  type Middleware,
  RpcError,
  Service,
  z,
} from "../mod.ts";

/** A signed-in user. */
export const Account = z.object({ name: z.string(), roles: z.array(z.string()) });
type Account = z.infer<typeof Account>;

/** The token store of this example; a real app would verify a JWT or ask a session store. */
const sessions = new Map<string, Account>([
  ["t-alice", { name: "alice", roles: ["admin"] }],
  ["t-bob", { name: "bob", roles: [] }],
]);

function bearerToken(headers: Headers): string | undefined {
  const header = headers.get("authorization") ?? "";
  return header.startsWith("Bearer ") ? header.slice("Bearer ".length).trim() : undefined;
}

/** Refuses calls without a valid bearer token, before anything else runs. */
export const bearerAuth: Middleware = (ctx: Context, next: () => Promise<void>): Promise<void> => {
  const token = bearerToken(ctx.metadata);
  if (!token) {
    throw new RpcError(
      "unauthenticated",
      "Missing bearer token: send authorization: Bearer <token>",
    );
  }
  if (!sessions.has(token)) throw new RpcError("unauthenticated", "Unknown or expired token");
  return next();
};

/** The account behind the call's token. */
export const currentUser = dependency("currentUser", (ctx): Account => {
  const account = sessions.get(bearerToken(ctx.metadata) ?? "");
  if (!account) throw new RpcError("unauthenticated", "Unknown or expired token");
  return account;
});

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
