/** Serves the test fixtures on 127.0.0.1 and prints {"url": ...}; runs until killed. */
import { fixtureServices } from "../_fixtures.ts";
import { MicroAPI } from "../../mod.ts";

const { services } = fixtureServices();
const server = await new MicroAPI({ services, onError: () => {} }).serve({
  port: 0,
  hostname: "127.0.0.1",
});
console.log(JSON.stringify({ url: server.url, runtime: "Bun" in globalThis ? "bun" : "deno" }));
