/**
 * The `microapi` command line. The commands (serve, generate, build, info, init) arrive with the
 * code generator; until then this prints what exists.
 *
 * @module
 */
if (import.meta.main) {
  console.log(
    "microapi: the CLI is not built yet.\n" +
      "Serve services from code with `new MicroAPI({ services }).serve()`; see README.md.",
  );
}
