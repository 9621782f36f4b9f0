/** A unary method's handler cannot stream: its output is one message, not an async generator. */
import { Service, z } from "../../../mod.ts";

export const service = new Service("s").method(
  "get",
  { output: z.object({ n: z.number() }) },
  // must fail: TS2345 Type 'AsyncGenerator<{ n: number; }, void, unknown>' is not assignable to type '{ n: number; } | Promise<{ n: number; }>'
  async function* () {
    yield { n: 1 };
  },
);
