/**
 * The untyped client: `Connection` calls are typed by their type arguments (the response type,
 * and for client streams the request type), `unknown` when none is given.
 */
import type { BidiStream, ClientStream, Connection, ServerStream } from "../../../mod.ts";
import { assertType, type IsExact } from "../_assert.ts";

interface User {
  name: string;
}
interface Sample {
  value: number;
}

export async function calls(connection: Connection): Promise<void> {
  const untyped = connection.unary("users/get_user", { user_id: 1 });
  assertType<IsExact<typeof untyped, Promise<unknown>>>();
  const user = await connection.unary<User>("users/get_user", { user_id: 1 }, { timeoutMs: 100 });
  assertType<IsExact<typeof user, User>>();
  // @ts-expect-error the response type is unknown until a type argument names it
  (await untyped).name;

  const users = connection.serverStream<User>("users/list_users", { limit: 3 });
  assertType<IsExact<typeof users, ServerStream<User>>>();
  for await (const each of users) assertType<IsExact<typeof each, User>>();
  assertType<IsExact<Awaited<ReturnType<typeof users.toArray>>, User[]>>();

  const aggregate = connection.clientStream<Sample, { sum: number }>("analytics/aggregate");
  assertType<IsExact<typeof aggregate, ClientStream<Sample, { sum: number }>>>();
  await aggregate.send({ value: 1 });
  // @ts-expect-error each message must be a Sample
  await aggregate.send({ value: "1" });
  assertType<IsExact<Awaited<ReturnType<typeof aggregate.end>>, { sum: number }>>();

  const chat = connection.bidiStream<Sample, User>("chat/conversation");
  assertType<IsExact<typeof chat, BidiStream<Sample, User>>>();
  await chat.send({ value: 2 });
  const reply = await chat.next();
  if (!reply.done) assertType<IsExact<typeof reply.value, User>>();
  for await (const each of chat) assertType<IsExact<typeof each, User>>();

  // @ts-expect-error an unknown option
  await connection.unary("users/get_user", undefined, { timeout: 100 });
}
