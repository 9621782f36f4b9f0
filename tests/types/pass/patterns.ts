/**
 * The four patterns, as the handler sees them: `stream(T)` input hands the handler a `Stream` of
 * T's output type to `for await`; `streaming(T)` output takes an async generator (or any async
 * iterable) of T's input type. The failing counterparts are in tests/types/fail/.
 */
import { Service, Stream, stream, streaming, z } from "../../../mod.ts";
import { assertType, type IsExact } from "../_assert.ts";

const Tick = z.object({ n: z.number(), label: z.string().default("tick") });
const Sample = z.object({ value: z.number(), unit: z.string().default("ms") });

export const patterns = new Service("patterns")
  .method("unary", { input: Sample, output: Tick }, ({ value }) => ({ n: value }))
  .method(
    "server_streaming",
    { input: z.object({ count: z.number() }), output: streaming(Tick) },
    async function* ({ count }) {
      // Each yield is checked against the input type of `Tick`: `label` may be left out.
      for (let n = 0; n < count; n++) yield { n };
    },
  )
  .method("client_streaming", { input: stream(Sample), output: Tick }, async (samples) => {
    assertType<IsExact<typeof samples, Stream<{ value: number; unit: string }>>>();
    let n = 0;
    for await (const sample of samples) {
      assertType<IsExact<typeof sample, { value: number; unit: string }>>();
      n += sample.value;
    }
    return { n, label: "sum" };
  })
  .method(
    "bidi_streaming",
    { input: stream(Sample), output: streaming(Tick) },
    async function* (samples) {
      assertType<IsExact<typeof samples, Stream<{ value: number; unit: string }>>>();
      for await (const { value } of samples) yield { n: value };
    },
  )
  .method(
    "streaming_from_iterable",
    { output: streaming(Tick) },
    // Not only generators: any function returning an async iterable of messages.
    () => Stream.from([{ n: 1 }, { n: 2, label: "two" }]),
  )
  .method("no_input_no_output", {}, () => {});

// A stream input is read, not destructured: its messages are its items.
new Service("misuse").method("count", { input: stream(Sample) }, async (samples) => {
  // @ts-expect-error a Stream is not a message
  samples.value;
  const all = await samples.toArray();
  assertType<IsExact<typeof all, { value: number; unit: string }[]>>();
});
