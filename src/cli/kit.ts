/**
 * What a server built by `microapi build` links against: the whole library (the services'
 * `@microapi/core` imports resolve here) and the CLI that runs them.
 *
 * @module
 */
export * from "../../mod.ts";
export { runEmbedded } from "./embedded.ts";
