// The peers' packages are the benchmark's own, pinned here and in bench/npm/package.json, never in
// deno.json's imports: inline npm: specifiers on purpose.
// deno-lint-ignore-file no-import-prefix

/**
 * oRPC: a `users.get_user` procedure with zod `.input()` and `.output()` (zod 4 schemas are
 * Standard Schemas, which oRPC takes as they are), served by `RPCHandler` from
 * `@orpc/server/fetch` under the prefix `/rpc`. oRPC's RPC protocol wraps values:
 * `POST /rpc/users/get_user` with `{"json":{"user_id":42}}`, answered `{"json":{...}}`.
 */

import { os } from "npm:@orpc/server@1.16.1";
import { RPCHandler } from "npm:@orpc/server@1.16.1/fetch";
import { getUser, GetUserRequest, User } from "./schemas.ts";

const router = {
  users: {
    get_user: os.input(GetUserRequest).output(User).handler(({ input }) => getUser(input)),
  },
};

const rpc = new RPCHandler(router);

/**
 * The RPC handler; anything it does not match is a 404.
 *
 * @param request The request.
 * @returns oRPC's response.
 */
export async function handler(request: Request): Promise<Response> {
  const { matched, response } = await rpc.handle(request, { prefix: "/rpc" });
  return matched ? response : new Response("not found", { status: 404 });
}
