// The peers' packages are the benchmark's own, pinned here and in bench/npm/package.json, never in
// deno.json's imports: inline npm: specifiers on purpose.
// deno-lint-ignore-file no-import-prefix

/**
 * tRPC 11: a `users.get_user` mutation (tRPC answers POST only for mutations) with zod `.input()`
 * and `.output()`, served by the fetch adapter at `/trpc`: `POST /trpc/users.get_user` with the
 * input as the JSON body (no transformer, no batching), answered `{"result":{"data":...}}`.
 */

import { initTRPC } from "npm:@trpc/server@11.25.2";
import { fetchRequestHandler } from "npm:@trpc/server@11.25.2/adapters/fetch";
import { getUser, GetUserRequest, User } from "./schemas.ts";

const t = initTRPC.create();

const router = t.router({
  users: t.router({
    get_user: t.procedure.input(GetUserRequest).output(User).mutation((
      { input },
    ) => getUser(input)),
  }),
});

/**
 * The fetch adapter.
 *
 * @param req The request.
 * @returns tRPC's response.
 */
export function handler(req: Request): Promise<Response> {
  return fetchRequestHandler({ endpoint: "/trpc", req, router });
}
