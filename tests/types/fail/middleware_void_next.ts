/**
 * A middleware returns next()'s outcome: one that starts the rest of the call and returns nothing
 * would end the call before it is over.
 */
import { MicroAPI } from "../../../mod.ts";

export const app = new MicroAPI({ services: [] }).use(
  // must fail: TS2345 Type 'void' is not assignable to type 'Outcome | Promise<Outcome>'
  (_ctx, next) => {
    void next();
  },
);
