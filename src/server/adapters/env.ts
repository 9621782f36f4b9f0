/**
 * Reads an environment variable on Deno or Bun. On Deno the variable is read only when env access
 * is already granted (no permission prompt); otherwise it counts as unset.
 *
 * @param name The variable.
 * @returns Its value, or undefined when unset or unreadable.
 */
export function readEnv(name: string): string | undefined {
  const deno = (globalThis as {
    Deno?: {
      env: { get(name: string): string | undefined };
      permissions: { querySync?(d: { name: "env"; variable: string }): { state: string } };
    };
  }).Deno;
  if (deno) {
    const state = deno.permissions.querySync?.({ name: "env", variable: name }).state;
    return state === "granted" ? deno.env.get(name) : undefined;
  }
  const process = (globalThis as { process?: { env: Record<string, string | undefined> } }).process;
  return process?.env[name];
}

/**
 * Whether the environment says production: `MICROAPI_ENV=production`, or `NODE_ENV=production`
 * when `MICROAPI_ENV` is unset.
 *
 * @returns `true` in production.
 */
export function isProduction(): boolean {
  const value = readEnv("MICROAPI_ENV") ?? readEnv("NODE_ENV");
  return value?.trim().toLowerCase() === "production";
}
