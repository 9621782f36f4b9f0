import type { NatsConnection } from "@nats-io/nats-core";
import { connectNats } from "./connect.ts";
import { SERVICE_METADATA_KEY } from "./micro.ts";

/** One endpoint (a method) of a service instance, as `$SRV.INFO` and `$SRV.STATS` report it. */
export interface DiscoveredEndpoint {
  /** The method's name. */
  readonly name: string;
  /** Its subject. */
  readonly subject: string;
  /** Its queue group. */
  readonly queue_group: string;
  /** MicroAPI's metadata: `pattern`, `route`, `schema_hash`, `input`, `output`, `deprecated`. */
  readonly metadata: Readonly<Record<string, string>>;
  /** Calls the instance has served, when its statistics answered. */
  readonly num_requests?: number;
  /** Calls that ended in an error. */
  readonly num_errors?: number;
  /** The last error, `code: message`, or "". */
  readonly last_error?: string;
  /** The average time per call, in nanoseconds. */
  readonly average_processing_time?: number;
}

/** One instance of a service: a process serving it. */
export interface DiscoveredService {
  /** The service's name. */
  readonly name: string;
  /** The instance's id (unique per process and service). */
  readonly id: string;
  /** `<N>.0.0` for version N of a MicroAPI service, `0.0.0` for an unversioned one. */
  readonly version: string;
  /** The description, if any. */
  readonly description: string;
  /** The service's metadata (MicroAPI's carry `microapi.protocol`). */
  readonly metadata: Readonly<Record<string, string>>;
  /** True for a MicroAPI service; false for another micro service on the same NATS. */
  readonly microapi: boolean;
  /** When the instance started (ISO 8601), when its statistics answered. */
  readonly started?: string;
  /** Its endpoints. */
  readonly endpoints: readonly DiscoveredEndpoint[];
}

/** How discovery is done. */
export interface DiscoverOptions {
  /** A connection to use instead of opening one. */
  connection?: NatsConnection;
  /** How long to gather answers, at most. Default 2000 ms. */
  timeoutMs?: number;
}

/**
 * Lists the services on a NATS system through the NATS service protocol (`$SRV.INFO` and
 * `$SRV.STATS`): every instance of every service, MicroAPI's and others, with their endpoints
 * and statistics. `microapi info nats://...` prints this.
 *
 * @param servers The NATS server(s) (ignored with `options.connection`).
 * @param options A connection, how long to wait.
 * @returns The instances, sorted by name, version and id.
 * @throws {Error} When NATS cannot be reached.
 */
export async function discoverServices(
  servers: string | readonly string[],
  options: DiscoverOptions = {},
): Promise<DiscoveredService[]> {
  const nc = options.connection ?? await connectNats(servers, { name: "microapi-info" });
  try {
    const timeout = options.timeoutMs ?? 2_000;
    const [infos, stats] = await Promise.all([
      gather(nc, "$SRV.INFO", timeout),
      gather(nc, "$SRV.STATS", timeout),
    ]);
    const statsById = new Map(stats.map((s) => [s.id, s]));
    const found: DiscoveredService[] = [];
    for (const info of infos) {
      if (typeof info.name !== "string" || typeof info.id !== "string") continue;
      const stat = statsById.get(info.id);
      const statEndpoints = Array.isArray(stat?.endpoints) ? stat.endpoints : [];
      const metadata = strings(info.metadata);
      found.push({
        name: info.name,
        id: info.id,
        version: String(info.version ?? ""),
        description: String(info.description ?? ""),
        metadata,
        microapi: SERVICE_METADATA_KEY in metadata,
        ...(typeof stat?.started === "string" ? { started: stat.started } : {}),
        endpoints: (Array.isArray(info.endpoints) ? info.endpoints : []).map(
          (endpoint: Record<string, unknown>) => {
            const s = statEndpoints.find((e: Record<string, unknown>) =>
              e.subject === endpoint.subject && e.name === endpoint.name
            ) as Record<string, unknown> | undefined;
            return {
              name: String(endpoint.name ?? ""),
              subject: String(endpoint.subject ?? ""),
              queue_group: String(endpoint.queue_group ?? ""),
              metadata: strings(endpoint.metadata),
              ...(s
                ? {
                  num_requests: Number(s.num_requests ?? 0),
                  num_errors: Number(s.num_errors ?? 0),
                  last_error: String(s.last_error ?? ""),
                  average_processing_time: Number(s.average_processing_time ?? 0),
                }
                : {}),
            };
          },
        ),
      });
    }
    return found.sort((a, b) =>
      a.name.localeCompare(b.name) || a.version.localeCompare(b.version) ||
      a.id.localeCompare(b.id)
    );
  } finally {
    if (!options.connection) await nc.close().catch(() => {});
  }
}

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

async function gather(nc: NatsConnection, subject: string, timeoutMs: number): Promise<Json[]> {
  const answers: Json[] = [];
  try {
    // Every instance answers; stop once answers have stopped coming for a while.
    const replies = await nc.requestMany(subject, "", {
      strategy: "stall",
      stall: Math.min(500, timeoutMs),
      maxWait: timeoutMs,
    });
    for await (const msg of replies) {
      try {
        const value = msg.json<Json>();
        if (typeof value === "object" && value !== null) answers.push(value);
      } catch {
        // not JSON: not a service
      }
    }
  } catch {
    // No responders: no service at all.
  }
  return answers;
}

function strings(value: unknown): Record<string, string> {
  if (typeof value !== "object" || value === null) return {};
  return Object.fromEntries(
    Object.entries(value).filter(([, v]) => typeof v === "string"),
  ) as Record<string, string>;
}
