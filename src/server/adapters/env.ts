/**
 * Reads an environment variable on Deno or Bun (or any host with a Node-style `process.env`). On
 * Deno the variable is read only when env access is already granted (no permission prompt).
 *
 * @param name The variable.
 * @returns Its value; undefined when it is unset; null when it cannot be read (Deno without
 * `--allow-env` for it, or a host with no environment at all).
 */
export function readEnv(name: string): string | undefined | null {
  const deno = (globalThis as {
    Deno?: {
      env: { get(name: string): string | undefined };
      permissions: { querySync?(d: { name: "env"; variable: string }): { state: string } };
    };
  }).Deno;
  if (deno) {
    const state = deno.permissions.querySync?.({ name: "env", variable: name }).state;
    return state === "granted" ? deno.env.get(name) : null;
  }
  const process = (globalThis as { process?: { env?: Record<string, string | undefined> } })
    .process;
  return process?.env ? process.env[name] : null;
}
