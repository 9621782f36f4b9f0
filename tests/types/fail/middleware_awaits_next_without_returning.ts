/**
 * Awaiting next() is not enough: the middleware returns the outcome it resolved with
 * (`return await next()`), so that the call's response is what the pipeline sends.
 */
import { MicroAPI } from "../../../mod.ts";

export const app = new MicroAPI({ services: [] }).use(
  // must fail: TS2345 Type 'Promise<void>' is not assignable to type 'Outcome | Promise<Outcome>'
  async (_ctx, next) => {
    await next();
  },
);
