import { CONSOLE_ASSETS, type ConsoleAsset } from "../console/_assets.ts";

/** Where an app serves its dev console (under its base path). */
export const CONSOLE_PATH = "/_microapi/console";

/**
 * Adds the dev console to an app's GET built-ins: the page at `/_microapi/console` and its script
 * and style sheet under it, served from memory (src/console/_assets.ts). Whether an app has it is
 * decided with its introspection (src/server/publishing.ts): by default only in development, and
 * with `console: true` only when introspection is on.
 *
 * @param builtins The app's GET built-ins, by path under the base path.
 */
export function registerConsole(
  builtins: Map<string, (request: Request) => Response | Promise<Response>>,
): void {
  for (const asset of CONSOLE_ASSETS) {
    const body: Uint8Array<ArrayBuffer> = new TextEncoder().encode(asset.body);
    builtins.set(CONSOLE_PATH + asset.path, (request) => consoleResponse(request, asset, body));
  }
}

/**
 * The page's Content-Security-Policy: nothing but its own script and style sheet, and calls to
 * its own origin (HTTP, and WebSocket on the same host).
 */
function contentSecurityPolicy(request: Request): string {
  const host = new URL(request.url).host;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self' ws://${host} wss://${host}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
}

function matches(ifNoneMatch: string | null, etag: string): boolean {
  if (ifNoneMatch === null) return false;
  return ifNoneMatch.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t === etag || t === `W/${etag}`;
  });
}

function consoleResponse(
  request: Request,
  asset: ConsoleAsset,
  body: Uint8Array<ArrayBuffer>,
): Response {
  const page = asset.path === "";
  const headers = new Headers({
    etag: asset.etag,
    // The page is revalidated every time (it names the current script); the script and style
    // sheet are named by their hashes, so they never change.
    "cache-control": page ? "no-cache" : "public, max-age=31536000, immutable",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
  });
  if (page) {
    headers.set("content-security-policy", contentSecurityPolicy(request));
    headers.set("x-frame-options", "DENY");
  }
  if (matches(request.headers.get("if-none-match"), asset.etag)) {
    return new Response(null, { status: 304, headers });
  }
  headers.set("content-type", asset.contentType);
  return new Response(body, { headers });
}
