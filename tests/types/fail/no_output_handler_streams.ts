/** A method without output cannot stream either: its handler returns nothing. */
import { Service } from "../../../mod.ts";

export const service = new Service("s").method(
  "run",
  {},
  // must fail: TS2345 Type 'AsyncGenerator<number, void, unknown>' is not assignable to type 'void | Promise<void>'
  async function* () {
    yield 1;
  },
);
