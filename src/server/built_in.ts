import { JSON_TYPE } from "../protocol/headers.ts";
import { RpcError } from "../protocol/rpc_error.ts";
import type { IntrospectionDocument } from "../schema/introspection.ts";
import { errorResponse } from "./http_handler.ts";

/**
 * The answer to `GET /_microapi/introspection`.
 *
 * @param document The app's document, or undefined when the app does not publish it.
 * @returns The document as JSON, or `404 not_found` saying that it is not published.
 */
export function introspectionResponse(document: IntrospectionDocument | undefined): Response {
  if (!document) {
    return errorResponse(
      new RpcError(
        "not_found",
        "This server does not publish its introspection document (MicroAPI option introspection)",
      ),
    );
  }
  return new Response(JSON.stringify(document, null, 2), {
    headers: { "content-type": JSON_TYPE, "cache-control": "no-store" },
  });
}
