/**
 * Prints what a default app publishes, as one JSON line: the status of its introspection and
 * console endpoints, and the message of a not-found error (which names what exists only when
 * introspection is on). Run by tests/server/introspection_endpoint_test.ts under Deno without
 * --allow-env, so the environment cannot be read.
 */
import { MicroAPI, Service, z } from "../../mod.ts";

const users = new Service("users").method(
  "get_user",
  { input: z.object({ id: z.number() }), output: z.object({ name: z.string() }) },
  () => ({ name: "x" }),
);
const app = new MicroAPI({ services: [users] });
const get = (path: string) => app.fetch(new Request(`http://probe.test${path}`));
const introspection = await get("/_microapi/introspection");
const devConsole = await get("/_microapi/console");
const notFound = await app.fetch(
  new Request("http://probe.test/users/get_usr", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: "{}",
  }),
);
console.log(JSON.stringify({
  introspection: introspection.status,
  console: devConsole.status,
  notFound: (await notFound.json()).message,
}));
