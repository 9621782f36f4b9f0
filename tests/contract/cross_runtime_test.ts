/**
 * The contract against a server in the other runtime: a Deno client and a Bun server under
 * `deno test`, a Bun client and a Deno server under `bun test`. Together with local_test.ts this
 * covers every client/server pairing of the two runtimes, over both transports.
 */
import assert from "node:assert/strict";
import { runtime, within } from "../_harness.ts";
import { runProgram } from "../_process.ts";
import { Connection } from "../../mod.ts";
import type { ConnectionOptions } from "../../mod.ts";
import { contract, type Target } from "./suite.ts";

const other = runtime === "deno" ? "bun" : "deno";

async function remote(options: ConnectionOptions): Promise<Target> {
  const child = runProgram(other, "fixture_server.ts");
  try {
    const ready = await within(child.ready, 30_000, `the ${other} server (${child.stderr()})`);
    assert.equal(ready.runtime, other);
    const url = String(ready.url);
    const connection = new Connection(url, options);
    return {
      connection,
      url,
      connect: () => new Connection(url, options),
      async [Symbol.asyncDispose]() {
        await connection.close();
        child.kill();
        await child.exited;
      },
    };
  } catch (error) {
    child.kill();
    await child.exited;
    throw error;
  }
}

contract(`${runtime}->${other} http`, () => remote({ transport: "http" }));
contract(`${runtime}->${other} ws`, () => remote({ transport: "ws" }));
