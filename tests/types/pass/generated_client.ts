/**
 * The generated client (the golden kitchen-sink client in tests/codegen/golden/, generated from
 * tests/codegen/_kitchen_sink.ts): each method is a function typed by its schemas. A request type
 * is the schema's input type (fields with defaults optional), a response type its output type;
 * client and bidi streams are classes extending `ClientStream` and `BidiStream`, server streams
 * async generators.
 */
import type { BidiStream, ClientCallOptions, ClientStream, Connection, z } from "../../../mod.ts";
import type * as schemas from "../../codegen/_kitchen_sink.ts";
import {
  type Address,
  drawing,
  type DrawResponse,
  probe,
  type Profile,
  profiles,
  profilesV2,
  type Shape,
  type TraceRequest,
  type TraceResponse,
} from "../../codegen/golden/kitchen_sink/mod.ts";
import type { ProfileInput } from "../../codegen/golden/kitchen_sink/types.ts";
import { assertType, type IsExact } from "../_assert.ts";

// The generated message types are exactly the schemas' types: the output type for what the
// server sends, the input type for what the client sends.
assertType<IsExact<Profile, z.output<typeof schemas.Profile>>>();
assertType<IsExact<ProfileInput, z.input<typeof schemas.Profile>>>();
assertType<IsExact<Shape, z.input<typeof schemas.Shape>>>();
assertType<IsExact<Address, z.output<typeof schemas.Address>>>();

export async function calls(connection: Connection): Promise<void> {
  const options = { connection, timeoutMs: 1000 };
  assertType<IsExact<Parameters<typeof profilesV2.update>[0], ProfileInput>>();
  assertType<IsExact<ReturnType<typeof profilesV2.update>, Promise<Profile>>>();
  const profile = await profilesV2.get({ id: "9b2f0d5e-1c1a-4b8e-9f7e-2d7c8a6b5e4f" }, options);
  assertType<IsExact<typeof profile.age, number>>();
  // @ts-expect-error the request needs an id
  await profilesV2.get({}, options);
  // @ts-expect-error the id is a string
  await profiles.get({ id: 1 }, options);

  // Server streaming: an async generator of responses.
  const watch = profilesV2.watch({ id: profile.id }, options);
  assertType<IsExact<typeof watch, AsyncGenerator<Profile, void, undefined>>>();
  for await (const each of watch) assertType<IsExact<typeof each, Profile>>();

  // Client streaming: send requests, then end() for the response.
  const draw = drawing.draw(options);
  assertType<typeof draw extends ClientStream<Shape, DrawResponse> ? true : false>();
  await draw.send({ kind: "circle", radius: 1 });
  // @ts-expect-error not a Shape
  await draw.send({ kind: "triangle", side: 1 });
  assertType<IsExact<Awaited<ReturnType<typeof draw.end>>, DrawResponse>>();

  // Bidi: send requests, read responses.
  const trace = drawing.trace(options);
  assertType<typeof trace extends BidiStream<TraceRequest, TraceResponse> ? true : false>();
  assertType<IsExact<Parameters<typeof trace.send>[0], TraceRequest>>();
  const step = await trace.next();
  if (!step.done) assertType<IsExact<typeof step.value, TraceResponse>>();

  // A method without input takes only the options; one without output resolves to nothing.
  assertType<IsExact<Parameters<typeof drawing.ping>, [options?: ClientCallOptions]>>();
  const waited = await probe.wait(options);
  assertType<IsExact<typeof waited, void>>();
}
