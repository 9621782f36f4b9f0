/**
 * The console's "Copy as curl" (src/console/page/snippets.ts) without a browser: the command it
 * writes for every pattern, with and without input, is one the server accepts. (The server refuses
 * calls without a content type, so the command must always send one.)
 */
import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { MicroAPI, Service, stream, streaming, z } from "../../mod.ts";
import { curlCommand } from "../../src/console/page/snippets.ts";

/** The words of a shell command line, single-quoted as shellQuote() writes them. */
function words(command: string): string[] {
  return [...command.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) =>
    m[1] !== undefined ? m[1].replaceAll("'\\''", "'") : m[2]!
  ).filter((word) => word !== "\\");
}

/** Runs a curl command as curl would send it, against the app. */
function replay(app: MicroAPI, command: string): Promise<Response> {
  const all = words(command);
  const pipe = all.indexOf("|");
  // printf '%s\n' 'line' 'line' | curl ...: the lines are the body.
  const piped = pipe === -1 ? undefined : all.slice(2, pipe).map((line) => line + "\n").join("");
  const curl = all.slice(pipe + 1);
  const headers = new Headers();
  let body: string | undefined;
  for (let i = 0; i < curl.length; i++) {
    if (curl[i] === "-H") headers.append(...(curl[++i]!.split(": ") as [string, string]));
    else if (curl[i] === "-d") body = curl[++i];
    else if (curl[i] === "--data-binary") body = curl[++i] === "@-" ? piped : "";
  }
  const url = curl.find((word) => word.startsWith("http://"))!;
  return app.fetch(new Request(url, { method: "POST", headers, body }));
}

test("console snippets: Copy as curl gives a call the server accepts, for every pattern", async () => {
  const N = z.object({ n: z.number() });
  const service = new Service("s")
    .method("unary", { input: N, output: N }, (input) => input)
    .method("no_input", { output: N }, () => ({ n: 0 }))
    .method("server", { input: N, output: streaming(N) }, async function* (input) {
      yield input;
    })
    .method("client", { input: stream(N), output: N }, async (inputs) => {
      let n = 0;
      for await (const input of inputs) n += input.n;
      return { n };
    })
    .method("bidi", { input: stream(N), output: streaming(N) }, async function* (inputs) {
      for await (const input of inputs) yield input;
    });
  const app = new MicroAPI({ services: [service] });
  const document = app.describe();
  const described = document.services.find((s) => s.name === "s")!;
  const expected: Record<string, string> = {
    unary: '{"n":1}',
    no_input: '{"n":0}',
    server: '{"message":{"n":1}}\n{"end":{"code":"ok"}}\n',
    client: '{"n":3}',
    bidi: '{"message":{"n":1}}\n{"message":{"n":2}}\n{"end":{"code":"ok"}}\n',
  };
  for (const method of described.methods) {
    const streamsIn = method.pattern === "client_streaming" || method.pattern === "bidi_streaming";
    const command = curlCommand({
      baseUrl: "http://console.test",
      service: described,
      method,
      messages: streamsIn ? [{ n: 1 }, { n: 2 }] : method.input ? [{ n: 1 }] : [],
      metadata: [],
      timeoutMs: undefined,
      transport: "http",
    });
    assert.match(command, /-H 'content-type: application\/(json|x-ndjson)'/, command);
    const response = await replay(app, command);
    assert.equal(response.status, 200, `${method.name}: ${command}`);
    assert.equal(await response.text(), expected[method.name], command);
  }
});
