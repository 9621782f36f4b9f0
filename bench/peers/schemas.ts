// zod from npm: like the peers' packages, so that on Bun the peer and its validator adapter
// load one copy (bench/npm/node_modules/zod); on Deno it is the same zod 4.6.7 as deno.json's.
// deno-lint-ignore-file no-import-prefix

/**
 * The zod schemas of the benchmark's unary call, shared by the peers: the same as MicroAPI's
 * `users/get_user` (bench/servers/microapi.ts), from the same zod.
 */

import { z } from "npm:zod@4.6.7";

/** `{"user_id":42}`. */
export const GetUserRequest = z.object({ user_id: z.number().int() });

/** `{"username":"alice","age":30}`. */
export const User = z.object({ username: z.string(), age: z.number().int() });

/** What every server answers. */
export function getUser(_request: z.infer<typeof GetUserRequest>): z.infer<typeof User> {
  return { username: "alice", age: 30 };
}
