/**
 * The users service from the streaming guide: a unary lookup and a server stream.
 *
 * Try it with curl while the demo server runs (`deno run -A examples/serve.ts`):
 *   curl -s localhost:8080/users/get_user -H 'content-type: application/json' -d '{"user_id":1}'
 *   curl -sN localhost:8080/users/list_users -H 'content-type: application/json' -d '{"limit":3}'
 */
import { RpcError, Service, streaming, z } from "../mod.ts";

/** A user account. */
export const User = z.object({
  user_id: z.number().int().positive(),
  username: z.string().min(1).max(32),
  age: z.number().int().min(0).max(150),
});

/** Which user to fetch. */
export const GetUserRequest = z.object({ user_id: z.number().int().positive() });

/** How many users to list. */
export const ListUsersRequest = z.object({
  limit: z.number().int().min(1).max(10_000).default(100),
});

const people = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];

function userById(userId: number): z.infer<typeof User> {
  return {
    user_id: userId,
    username: people[(userId - 1) % people.length]!,
    age: 20 + userId % 50,
  };
}

export const users = new Service("users", { description: "User accounts" })
  .method("get_user", {
    input: GetUserRequest,
    output: User,
    description: "Fetches one user by id.",
  }, ({ user_id }) => {
    if (user_id > 1000) {
      throw new RpcError("not_found", `No user with id ${user_id}`, { details: { user_id } });
    }
    return userById(user_id);
  })
  .method("list_users", {
    input: ListUsersRequest,
    output: streaming(User),
    description: "Streams users one by one, as they are read.",
  }, async function* ({ limit }, ctx) {
    for (let id = 1; id <= limit && !ctx.signal.aborted; id++) {
      yield userById(id);
    }
  });
