import { JSON_TYPE } from "../protocol/headers.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import { INTROSPECTION_PATH, type IntrospectionDocument } from "../schema/introspection.ts";
import { errorResponse } from "./http_handler.ts";

/** What the built-in endpoints need from the app, and the request's path. */
export interface BuiltInEnv {
  /** The request's path, without the base path, starting with `/_microapi/`. */
  readonly path: string;
  /** The introspection document, or undefined when the app does not publish it. */
  introspection(): IntrospectionDocument | undefined;
}

/**
 * Answers a request for a built-in endpoint: `GET /_microapi/introspection` for now. Other paths
 * under `/_microapi/` (the WebSocket endpoint) are left to the caller.
 *
 * @param request The request.
 * @param env Its path, and the app.
 * @returns The response, or undefined for a path this does not handle.
 */
export function handleBuiltIn(request: Request, env: BuiltInEnv): Response | undefined {
  if (env.path !== INTROSPECTION_PATH) return undefined;
  const document = env.introspection();
  if (!document) {
    return errorResponse(
      new RpcError(
        "not_found",
        "This server does not publish its introspection document (MicroAPI option introspection)",
      ),
    );
  }
  if (request.method !== "GET") {
    return errorResponse(
      new RpcError("unimplemented", `Use GET to read ${INTROSPECTION_PATH}`),
      405,
      new Headers({ allow: "GET" }),
    );
  }
  return new Response(JSON.stringify(document, null, 2), {
    headers: { "content-type": JSON_TYPE, "cache-control": "no-store" },
  });
}
