/** Serves the Connect test services (the fixtures and `extras`) with Connect and gRPC-Web on
 * 127.0.0.1, h2c included, and prints {"url": ..., "runtime": ...}; runs until killed. */
import { connectServices } from "../connect/_helpers.ts";
import { MicroAPI } from "../../mod.ts";
import { connect } from "../../src/connect/mod.ts";

const { services } = connectServices();
const server = await new MicroAPI({ services, protocols: [connect()], onError: () => {} }).serve({
  port: 0,
  hostname: "127.0.0.1",
  http2: true,
});
console.log(JSON.stringify({ url: server.url, runtime: "Bun" in globalThis ? "bun" : "deno" }));
