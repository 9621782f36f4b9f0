/** Each message a `streaming(T)` handler yields is checked against T. */
import { Service, streaming, z } from "../../../mod.ts";

export const service = new Service("s").method(
  "ticks",
  { output: streaming(z.object({ n: z.number() })) },
  // must fail: TS2345 Type '{ n: string; }' is not assignable to type '{ n: number; }'
  async function* () {
    yield { n: "1" };
  },
);
