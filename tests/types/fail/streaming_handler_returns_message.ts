/** `streaming(T)` output needs an async iterable of T: an async function returning one T is not. */
import { Service, streaming, z } from "../../../mod.ts";

export const service = new Service("s").method(
  "ticks",
  { output: streaming(z.object({ n: z.number() })) },
  // must fail: TS2345 Property '[Symbol.asyncIterator]' is missing in type 'Promise<{ n: number; }>'
  async () => {
    await Promise.resolve();
    return { n: 1 };
  },
);
