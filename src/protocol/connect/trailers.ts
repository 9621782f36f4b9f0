import { TRAILER_PREFIX } from "./headers.ts";

/**
 * Unary trailers. A unary Connect response has no body framing to carry trailers in, so they
 * travel as response headers named `trailer-<name>`; the reader strips the prefix again.
 */

/**
 * Adds trailers to response headers, each name prefixed with `trailer-`.
 *
 * @param headers The response headers, changed in place.
 * @param trailers The trailers.
 */
export function setUnaryTrailers(headers: Headers, trailers: Headers): void {
  trailers.forEach((value, name) => headers.append(TRAILER_PREFIX + name, value));
}

/**
 * Separates the headers of a unary response from the trailers it carries as `trailer-` headers.
 *
 * @param headers The response headers as received.
 * @returns The headers without the `trailer-` ones, and the trailers with the prefix removed.
 */
export function splitUnaryTrailers(headers: Headers): { headers: Headers; trailers: Headers } {
  const plain = new Headers();
  const trailers = new Headers();
  headers.forEach((value, name) => {
    if (name.startsWith(TRAILER_PREFIX) && name.length > TRAILER_PREFIX.length) {
      trailers.append(name.slice(TRAILER_PREFIX.length), value);
    } else {
      plain.append(name, value);
    }
  });
  return { headers: plain, trailers };
}
