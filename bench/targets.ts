/**
 * The servers the benchmark knows (bench/server.ts kinds) and how each is asked the one unary call
 * every server answers: "get user 42", answered `{"username":"alice","age":30}`. The frameworks
 * frame that call differently (paths, wrappers); each entry says how, and how to find the user
 * in the reply. No imports: the harness and the servers both read it.
 */

/** The peer frameworks (bench/peers/). */
export const PEERS = ["hono", "trpc", "orpc", "connect"] as const;

/** One of {@linkcode PEERS}. */
export type Peer = typeof PEERS[number];

/** A server process bench/server.ts can run. */
export type ServerKind = "raw" | "microapi" | "microapi_connect" | Peer;

/** How a server is asked the unary call. */
export interface UnaryCall {
  /** The request path (always `POST`, `content-type: application/json`). */
  path: string;
  /** The request body. */
  body: string;
  /**
   * The user object inside a reply.
   *
   * @param reply The parsed response body.
   * @returns What should equal `{"username":"alice","age":30}`.
   */
  user(reply: unknown): unknown;
}

const PLAIN_BODY = '{"user_id":42}';
const asIs = (reply: unknown) => reply;

/** Every server's unary call. */
export const UNARY_CALLS: Readonly<Record<ServerKind, UnaryCall>> = {
  raw: { path: "/users/get_user", body: PLAIN_BODY, user: asIs },
  microapi: { path: "/users/get_user", body: PLAIN_BODY, user: asIs },
  // Connect's JSON: lowerCamel names; MicroAPI's `z.number().int()` is an int64, sent as a string.
  microapi_connect: {
    path: "/users.Users/GetUser",
    body: '{"userId":42}',
    user: (reply) => {
      const { username, age } = reply as { username?: unknown; age?: unknown };
      return { username, age: typeof age === "string" ? Number(age) : age };
    },
  },
  hono: { path: "/users/get_user", body: PLAIN_BODY, user: asIs },
  trpc: {
    path: "/trpc/users.get_user",
    body: PLAIN_BODY,
    user: (reply) => (reply as { result?: { data?: unknown } })?.result?.data,
  },
  orpc: {
    path: "/rpc/users/get_user",
    body: '{"json":{"user_id":42}}',
    user: (reply) => (reply as { json?: unknown })?.json,
  },
  connect: {
    path: "/bench.v1.UserService/GetUser",
    body: PLAIN_BODY,
    user: asIs,
  },
};

/** The reply's user, as JSON. */
export const EXPECTED_USER = '{"username":"alice","age":30}';

/**
 * Whether a response is the right answer to the unary call.
 *
 * @param kind The server.
 * @param status The HTTP status.
 * @param text The response body.
 * @returns An error message, or undefined when the answer is right.
 */
export function checkUnaryReply(
  kind: ServerKind,
  status: number,
  text: string,
): string | undefined {
  let user: unknown;
  try {
    user = UNARY_CALLS[kind].user(JSON.parse(text));
  } catch {
    // not JSON: reported below
  }
  if (status === 200 && JSON.stringify(user) === EXPECTED_USER) {
    return undefined;
  }
  return `${kind} answered ${status} ${text.slice(0, 200)}; expected 200 with the user ` +
    EXPECTED_USER;
}

/** What each server is, for the tables; `{runtime}` is the raw server's name. */
export const SERVER_LABELS: Readonly<Record<ServerKind, string>> = {
  raw: "raw {runtime}",
  microapi: "MicroAPI",
  hono: "Hono + @hono/zod-validator",
  trpc: "tRPC 11 (fetch adapter)",
  orpc: "oRPC (RPCHandler, fetch)",
  microapi_connect: "MicroAPI, Connect JSON",
  connect: "Connect-ES 2 (JSON)",
};

/** The unary calls sent as binary protobuf (`application/proto`), to the two Connect servers. */
export type BinaryKind = "microapi_connect_proto" | "connect_proto";

/** A binary unary call: the server, the path, the request and the expected reply. */
export interface BinaryCall {
  /** The server process that answers it. */
  server: ServerKind;
  /** The request path. */
  path: string;
  /** The label in the tables. */
  label: string;
}

/**
 * `GetUserRequest { user_id: 42 }`: field 1, varint 42. Both servers number the fields alike
 * (MicroAPI in declaration order), so one request and one reply do for both.
 */
export const BINARY_REQUEST: Uint8Array = Uint8Array.from([0x08, 42]);

/** `User { username: "alice", age: 30 }`: field 1 the string, field 2 varint 30. */
export const BINARY_REPLY: Uint8Array = Uint8Array.from([
  0x0a,
  5,
  ..."alice".split("").map((c) => c.charCodeAt(0)),
  0x10,
  30,
]);

/** The binary calls. */
export const BINARY_CALLS: Readonly<Record<BinaryKind, BinaryCall>> = {
  microapi_connect_proto: {
    server: "microapi_connect",
    path: "/users.Users/GetUser",
    label: "MicroAPI, Connect binary",
  },
  connect_proto: {
    server: "connect",
    path: "/bench.v1.UserService/GetUser",
    label: "Connect-ES 2 (binary)",
  },
};

/**
 * A server's label for a runtime.
 *
 * @param kind The server.
 * @param runtime `deno` or `bun`.
 * @returns For example `raw Deno.serve`.
 */
export function serverLabel(kind: ServerKind, runtime: string): string {
  return SERVER_LABELS[kind].replace(
    "{runtime}",
    runtime === "bun" ? "Bun.serve" : "Deno.serve",
  );
}
