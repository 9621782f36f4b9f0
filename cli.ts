/**
 * The `microapi` command line: `serve`, `generate`, `info`, `init` and `build`. Run it with
 * `deno run -A cli.ts <command>` or `bun cli.ts <command>`, or compile it to one executable with
 * `deno task compile`. See docs/cli.md.
 *
 * @module
 */
import { runCli } from "./src/cli/entry.ts";

if (import.meta.main) await runCli();
