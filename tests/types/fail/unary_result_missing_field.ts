/** A unary handler's result is checked against the output schema: a required field is missing. */
import { Service, z } from "../../../mod.ts";

export const service = new Service("s").method(
  "greet",
  { output: z.object({ text: z.string(), language: z.string().default("en") }) },
  // must fail: TS2322 Property 'text' is missing in type '{ language: string; }'
  () => ({ language: "fr" }),
);
