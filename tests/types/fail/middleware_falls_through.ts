/**
 * A middleware that checks the call and lets it through must return next()'s outcome: falling off
 * the end after the check would never run the handler.
 */
import { MicroAPI, RpcError } from "../../../mod.ts";

export const app = new MicroAPI({ services: [] }).use(
  // must fail: TS2345 Type 'void' is not assignable to type 'Outcome | Promise<Outcome>'
  (ctx) => {
    if (!ctx.metadata.has("authorization")) throw new RpcError("unauthenticated", "log in first");
  },
);
