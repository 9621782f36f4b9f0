/**
 * The client runtime a standalone client carries (`microapi generate --standalone`): the files
 * of `src/` that `src/client/mod.ts` imports, directly or not, copied under `<out>/microapi/`
 * with their paths, and so their relative imports, unchanged. They import nothing else: no zod,
 * no server code, no npm package (tests/codegen/standalone_test.ts checks this list against the
 * import graph).
 */

/** The runtime's files, as paths relative to `src/`, the entry first. */
export const CLIENT_RUNTIME_FILES: readonly string[] = [
  "client/mod.ts",
  "client/call_control.ts",
  "client/call_options.ts",
  "client/call_state.ts",
  "client/connection.ts",
  "client/http_transport.ts",
  "client/streams.ts",
  "client/transport.ts",
  "client/ws_client_call.ts",
  "client/ws_keepalive.ts",
  "client/ws_link.ts",
  "client/ws_socket.ts",
  "client/ws_transport.ts",
  "protocol/batched_body.ts",
  "protocol/body.ts",
  "protocol/codes.ts",
  "protocol/credit.ts",
  "protocol/frame_batcher.ts",
  "protocol/headers.ts",
  "protocol/json.ts",
  "protocol/limits.ts",
  "protocol/ndjson.ts",
  "protocol/route.ts",
  "protocol/rpc_error.ts",
  "protocol/stream_lines.ts",
  "protocol/timeout.ts",
  "protocol/ws_frames.ts",
  "schema/pattern.ts",
  "schema/stream_closed_error.ts",
  "_util/queue.ts",
  "_util/quiet.ts",
];

/** The directory of the output that holds the runtime; it stands for `src/`. */
export const CLIENT_RUNTIME_DIR: string = "microapi";

/** What a standalone client's files import the runtime from, relative to the output directory. */
export const CLIENT_RUNTIME_ENTRY: string = `./${CLIENT_RUNTIME_DIR}/client/mod.ts`;
