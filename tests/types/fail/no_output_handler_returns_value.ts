/** A method without output returns nothing: a value it returns would be lost. */
import { Service } from "../../../mod.ts";

export const service = new Service("s").method(
  "run",
  {},
  // must fail: TS2322 Type 'number' is not assignable to type 'void | Promise<void>'
  () => 1,
);
