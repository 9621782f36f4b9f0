/**
 * `@microapi/core/nats`: MicroAPI over NATS, to scale out. Any number of server processes, on
 * any number of machines behind one NATS cluster, serve the same app with {@linkcode serveNats};
 * NATS queue groups give each call to one of them. Clients call through NATS with
 * {@linkcode natsTransport}; every pattern keeps its semantics (metadata, trailers, deadlines,
 * cancellation, typed errors, validation), and generated clients work unchanged. Flow control,
 * frame sequence numbers and heartbeats make a stream fail with `data_loss` or `unavailable`,
 * promptly, rather than stall or end short when a message, a process or a machine is lost.
 * docs/scale-out.md has the topologies, the failure semantics and the configuration.
 *
 * This entry point is the one part of MicroAPI that depends on the NATS client library
 * (`@nats-io/nats-core`, and `@nats-io/transport-node` for `nats://` URLs): optional peer
 * dependencies, so an app that does not use NATS installs neither.
 *
 * @example
 * ```ts ignore
 * // server.ts: run it as many times as you like.
 * import { serveNats } from "@microapi/core/nats";
 * import { app } from "./app.ts";
 * await serveNats(app, { servers: "nats://127.0.0.1:4222" });
 *
 * // client.ts
 * import { Connection } from "@microapi/core";
 * import { natsTransport } from "@microapi/core/nats";
 * await using connection = new Connection("nats://127.0.0.1:4222", { transport: natsTransport() });
 * console.log(await connection.unary("users/get_user", { user_id: 1 }));
 * ```
 *
 * @module
 */

// ---- Serve ----

// Serves an app over NATS, in a queue group shared with the app's other processes.
export { serveNats } from "./server.ts";
// How an app is served over NATS, and the running server.
export type { NatsServeOptions, NatsServer } from "./server.ts";

// ---- Call ----

// The NATS transport for a Connection.
export { natsTransport } from "./client_transport.ts";
// How a client calls over NATS.
export type { NatsTransportOptions } from "./client_transport.ts";

// ---- Discover ----

// The services on a NATS system, from the NATS service protocol ($SRV.INFO, $SRV.STATS).
export { discoverServices } from "./discover.ts";
// What discovery reports.
export type { DiscoveredEndpoint, DiscoveredService, DiscoverOptions } from "./discover.ts";
// What a MicroAPI endpoint's metadata says in the NATS service protocol.
export type { EndpointMetadata } from "./micro.ts";

// ---- Subjects and connections ----

// The subject a method is served on, and the defaults.
export { DEFAULT_PREFIX, DEFAULT_QUEUE, methodSubject } from "./subjects.ts";
// Opens a NATS connection from URLs (TCP or WebSocket).
export { connectNats } from "./connect.ts";

// ---- Types these name ----

// A method's address, and what natsTransport() returns.
export type { Route } from "../protocol/route.ts";
export type { TransportFactory } from "../client/connection.ts";
