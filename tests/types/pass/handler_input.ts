/**
 * A handler's input and result types come from the method's schemas: the handler receives what
 * the input schema outputs (defaults filled in, transforms applied), and returns what the output
 * schema accepts as input (fields with defaults may be left out, transforms run on the way out).
 */
import { type HandlerInput, type HandlerResult, Service, z } from "../../../mod.ts";
import { assertType, type IsExact } from "../_assert.ts";

const Input = z.object({
  name: z.string(),
  greeting: z.string().default("Hello"),
  times: z.number().int().optional(),
  tags: z.string().transform((text) => text.split(",")),
});
const Output = z.object({
  text: z.string(),
  language: z.string().default("en"),
  length: z.number().transform((n) => `${n} characters`),
});

assertType<
  IsExact<HandlerInput<typeof Input>, {
    name: string;
    greeting: string;
    times?: number | undefined;
    tags: string[];
  }>
>();
assertType<
  IsExact<
    HandlerResult<typeof Output>,
    | { text: string; language?: string | undefined; length: number }
    | Promise<
      { text: string; language?: string | undefined; length: number }
    >
  >
>();
// No input schema: the handler receives undefined. No output schema: it returns nothing.
assertType<IsExact<HandlerInput<undefined>, undefined>>();
assertType<IsExact<HandlerResult<undefined>, void | Promise<void>>>();

export const greeter = new Service("greeter")
  .method("greet", { input: Input, output: Output }, (input) => {
    assertType<IsExact<typeof input.greeting, string>>();
    assertType<IsExact<typeof input.times, number | undefined>>();
    assertType<IsExact<typeof input.tags, string[]>>();
    // @ts-expect-error the input has no such field
    input.language;
    const text = `${input.greeting}, ${input.name}`;
    // `language` has a default, and `length` is the number before its transform.
    return { text, length: text.length };
  })
  .method("greet_async", { input: Input, output: Output }, async ({ name }) => {
    await Promise.resolve();
    return { text: name, language: "fr", length: name.length };
  })
  .method("no_input", { output: z.object({ ok: z.boolean() }) }, (input) => {
    assertType<IsExact<typeof input, undefined>>();
    return { ok: true };
  })
  .method("no_output", { input: z.number() }, async (n) => {
    assertType<IsExact<typeof n, number>>();
    await Promise.resolve();
  });

// The service records each method's specs by name, for typed callers.
type Greet = (typeof greeter)["~types"]["greet"];
assertType<IsExact<Greet["input"], typeof Input>>();
assertType<IsExact<Greet["output"], typeof Output>>();
