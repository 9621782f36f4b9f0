/** A `stream(T)` input is a `Stream<T>` to read, not one T: it cannot be destructured as one. */
import { Service, stream, z } from "../../../mod.ts";

export const service = new Service("s").method(
  "sum",
  { input: stream(z.object({ value: z.number() })), output: z.number() },
  // must fail: TS2339 Property 'value' does not exist on type 'Stream<{ value: number; }>'
  ({ value }) => value,
);
