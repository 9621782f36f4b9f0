/**
 * The call as something to paste: a curl command (HTTP, the protocol of docs/protocol.md) and a
 * TypeScript snippet with the client `microapi generate` writes.
 */
import { camelCase } from "../../codegen/identifiers.ts";
import type { MethodDescription, ServiceDescription } from "../../schema/introspection.ts";

/** The call to write down. */
export interface SnippetCall {
  /** The server's base URL, with its base path: `http://127.0.0.1:8080/rpc`. */
  readonly baseUrl: string;
  /** The service. */
  readonly service: ServiceDescription;
  /** The method. */
  readonly method: MethodDescription;
  /** The request messages: one for unary and server streaming, the stream's for the others. */
  readonly messages: readonly unknown[];
  /** Per-call metadata. */
  readonly metadata: readonly [string, string][];
  /** The deadline, if any. */
  readonly timeoutMs: number | undefined;
  /** The transport chosen in the console. */
  readonly transport: "ws" | "http";
}

/**
 * Quotes a word for a POSIX shell.
 *
 * @param text The word.
 * @returns It in single quotes.
 */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The call as a curl command line.
 *
 * @param call The call.
 * @returns The command (one line per option, joined with backslashes).
 */
export function curlCommand(call: SnippetCall): string {
  const { pattern } = call.method;
  const streamsIn = pattern === "client_streaming" || pattern === "bidi_streaming";
  const streamsOut = pattern === "server_streaming" || pattern === "bidi_streaming";
  const lines = [
    `curl -sS${streamsOut ? "N" : ""} -X POST ${shellQuote(call.baseUrl + call.method.path)}`,
  ];
  const hasInput = call.method.input !== undefined;
  // Always: the server refuses a call without a content type (docs/security.md).
  lines.push(
    `-H ${shellQuote(`content-type: ${streamsIn ? "application/x-ndjson" : "application/json"}`)}`,
  );
  for (const [name, value] of call.metadata) lines.push(`-H ${shellQuote(`${name}: ${value}`)}`);
  if (call.timeoutMs !== undefined) {
    lines.push(`-H ${shellQuote(`microapi-timeout-ms: ${call.timeoutMs}`)}`);
  }
  let prefix = "";
  if (streamsIn) {
    if (call.messages.length === 0) lines.push("--data-binary ''");
    else {
      prefix = `printf '%s\\n' ${
        call.messages.map((m) => shellQuote(JSON.stringify(m))).join(" ")
      } | `;
      lines.push("--data-binary @-");
    }
  } else if (hasInput && call.messages[0] !== undefined) {
    lines.push(`-d ${shellQuote(JSON.stringify(call.messages[0]))}`);
  }
  return prefix + lines.join(" \\\n  ");
}

/**
 * The call as TypeScript, with a generated client (`microapi generate <url> --out lib/`).
 *
 * @param call The call.
 * @returns The snippet.
 */
export function typescriptSnippet(call: SnippetCall): string {
  const { service, method } = call;
  const namespace = camelCase(service.name) +
    (service.version === undefined ? "" : `V${service.version}`);
  const fn = `${namespace}.${camelCase(method.name)}`;
  const options: string[] = [];
  if (call.timeoutMs !== undefined) options.push(`timeoutMs: ${call.timeoutMs}`);
  if (call.metadata.length > 0) {
    options.push(`metadata: ${JSON.stringify(Object.fromEntries(call.metadata))}`);
  }
  const optionText = options.length > 0 ? `{ ${options.join(", ")} }` : "";
  const json = (value: unknown) => JSON.stringify(value) ?? "undefined";
  const args = (input: string | undefined) =>
    [input, optionText].filter((part) => part !== undefined && part !== "").join(", ");
  const hasInput = method.input !== undefined;
  const first = hasInput ? json(call.messages[0]) : undefined;
  const lines = [
    `// microapi generate ${call.baseUrl} --out lib/`,
    `import { Connection } from "@microapi/core";`,
    `import { ${namespace} } from "./lib/mod.ts";`,
    "",
    `Connection.setDefault(new Connection(${JSON.stringify(call.baseUrl)}${
      call.transport === "ws" ? `, { transport: "ws" }` : ""
    }));`,
  ];
  switch (method.pattern) {
    case "unary":
      lines.push(`const response = await ${fn}(${args(first)});`, "console.log(response);");
      break;
    case "server_streaming":
      lines.push(
        `for await (const message of ${fn}(${args(first)})) {`,
        "  console.log(message);",
        "}",
      );
      break;
    case "client_streaming":
      lines.push(`const call = ${fn}(${args(undefined)});`);
      for (const message of call.messages) lines.push(`await call.send(${json(message)});`);
      lines.push("console.log(await call.end());");
      break;
    default:
      lines.push(`const call = ${fn}(${args(undefined)});`);
      for (const message of call.messages) lines.push(`await call.send(${json(message)});`);
      lines.push("await call.end();", "for await (const reply of call) console.log(reply);");
  }
  return lines.join("\n") + "\n";
}
