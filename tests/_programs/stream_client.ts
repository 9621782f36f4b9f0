/** Opens a server stream to the URL given, prints {"started":true} after the first message, then
 * waits forever (the test kills it to drop the connection). */
import { Connection } from "../../mod.ts";

const url = (globalThis as { Deno?: { args: string[] } }).Deno?.args[0] ??
  (globalThis as unknown as { process: { argv: string[] } }).process.argv[2]!;
const stream = new Connection(url).serverStream("probes/ticks", { every_ms: 20 });
await stream.next();
console.log(JSON.stringify({ started: true }));
await new Promise(() => {
  setInterval(() => {}, 1000);
});
