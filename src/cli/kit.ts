/**
 * What a server built by `microapi build` links against: the whole library (the services'
 * `@microapi/core` imports resolve here), the CLI that runs them, and the hook that gives its
 * `generate --standalone` the client runtime's sources the server carries.
 *
 * @module
 */
export * from "../../mod.ts";
export { runEmbedded } from "./embedded.ts";
export { setClientRuntimeAssets } from "./_client_runtime.ts";
