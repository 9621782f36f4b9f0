// The peers' packages are the benchmark's own, pinned here and in bench/npm/package.json, never in
// deno.json's imports: inline npm: specifiers on purpose.
// deno-lint-ignore-file no-import-prefix

/**
 * Hono: `POST /users/get_user`, the input validated by `@hono/zod-validator`'s `zValidator("json")`
 * middleware; Hono has no output validation, so the handler parses its reply with the output
 * schema before `c.json()`.
 */

import { Hono } from "npm:hono@4.13.23";
import { zValidator } from "npm:@hono/zod-validator@0.9.1";
import { getUser, GetUserRequest, User } from "./schemas.ts";

const app = new Hono().post(
  "/users/get_user",
  zValidator("json", GetUserRequest),
  (c) => c.json(User.parse(getUser(c.req.valid("json")))),
);

/**
 * The app's fetch handler.
 *
 * @param request The request.
 * @returns Hono's response.
 */
export function handler(request: Request): Response | Promise<Response> {
  return app.fetch(request);
}
