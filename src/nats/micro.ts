import type { Msg, NatsConnection, Subscription } from "@nats-io/nats-core";
import { nuid } from "@nats-io/nats-core";
import { routePath } from "../protocol/route.ts";
import type { RpcError } from "../protocol/rpc_error.ts";
import type { IntrospectionDocument, MethodDescription } from "../schema/introspection.ts";
import { refsIn } from "../schema/json_schema.ts";
import type { Service } from "../schema/service.ts";

/**
 * MicroAPI services in the NATS service ("micro") protocol (NATS ADR-32): each process answers
 * `$SRV.PING`, `$SRV.INFO` and `$SRV.STATS` (also `.<name>` and `.<name>.<id>`) for each of its
 * services, so that standard NATS tooling (`nats micro list`, the NATS client libraries' service
 * clients) and `microapi info nats://...` list them, their endpoints and their statistics. One
 * MicroAPI service is one micro service: its name, its version as `<N>.0.0` (`0.0.0` for an
 * unversioned service), one endpoint per method with the method's subject and queue group, and
 * endpoint metadata saying what a MicroAPI client needs (see {@linkcode EndpointMetadata}).
 */

/** The `metadata` every MicroAPI micro service carries, which tells it from other services. */
export const SERVICE_METADATA_KEY = "microapi.protocol";
/** Its value: the version of MicroAPI's protocol over NATS. */
export const PROTOCOL_VERSION = "1";

/** What a MicroAPI endpoint's `metadata` holds (all values are strings, as the protocol wants). */
export interface EndpointMetadata {
  /** The method's pattern: `unary`, `server_streaming`, `client_streaming`, `bidi_streaming`. */
  readonly pattern: string;
  /** The method's HTTP path (`/v2/users/get_user`), what `Connection` calls it by. */
  readonly route: string;
  /**
   * SHA-256 (hex) of the method's pattern and its input and output JSON Schema (with every
   * definition they use): instances that disagree serve different contracts.
   */
  readonly schema_hash: string;
  /** The input message's type name, when there is one. */
  readonly input?: string;
  /** The output message's type name, when there is one. */
  readonly output?: string;
  /** `true`, or what to use instead, for a deprecated method. */
  readonly deprecated?: string;
}

/** One endpoint of a micro service: a method. */
interface Endpoint {
  readonly name: string;
  readonly subject: string;
  readonly queue_group: string;
  readonly metadata: EndpointMetadata;
  num_requests: number;
  num_errors: number;
  last_error: string;
  /** Nanoseconds. */
  processing_time: number;
}

/** One micro service: a MicroAPI service in this process. */
interface MicroService {
  readonly name: string;
  readonly id: string;
  readonly version: string;
  readonly description: string;
  readonly metadata: Record<string, string>;
  readonly endpoints: Endpoint[];
}

/** What a registry needs to know of each method. */
export interface RegisteredMethod {
  /** The service. */
  readonly service: Service;
  /** The method's name. */
  readonly method: string;
  /** The subject it is served on. */
  readonly subject: string;
}

/**
 * This process's MicroAPI services in the micro protocol: their statistics, and the answers to
 * `$SRV` requests.
 */
export class MicroRegistry {
  #services: MicroService[] = [];
  #bySubject = new Map<string, Endpoint>();
  #started = new Date().toISOString();
  #subscriptions: Subscription[] = [];

  /**
   * Describes the methods; nothing is subscribed yet.
   *
   * @param methods The methods this process serves.
   * @param document The app's introspection document (for schemas and descriptions).
   * @param queue The queue group the methods are served in.
   * @returns The registry.
   */
  static async create(
    methods: readonly RegisteredMethod[],
    document: IntrospectionDocument,
    queue: string,
  ): Promise<MicroRegistry> {
    const registry = new MicroRegistry();
    const byService = new Map<Service, MicroService>();
    for (const { service, method, subject } of methods) {
      let micro = byService.get(service);
      if (!micro) {
        micro = {
          name: service.name,
          id: nuid.next(),
          version: `${service.version ?? 0}.0.0`,
          description: service.description ?? "",
          metadata: { [SERVICE_METADATA_KEY]: PROTOCOL_VERSION },
          endpoints: [],
        };
        byService.set(service, micro);
        registry.#services.push(micro);
      }
      const path = routePath({ service: service.name, method, version: service.version });
      const described = document.services
        .find((s) => s.name === service.name && s.version === service.version)
        ?.methods.find((m) => m.name === method);
      const definition = service.methods.find((m) => m.name === method)!;
      const endpoint: Endpoint = {
        name: method,
        subject,
        queue_group: queue,
        metadata: {
          pattern: definition.pattern,
          route: path,
          schema_hash: await schemaHash(definition.pattern, described, document),
          ...typeName("input", described?.input),
          ...typeName("output", described?.output),
          ...(described?.deprecated === undefined
            ? {}
            : { deprecated: String(described.deprecated) }),
        },
        num_requests: 0,
        num_errors: 0,
        last_error: "",
        processing_time: 0,
      };
      micro.endpoints.push(endpoint);
      registry.#bySubject.set(subject, endpoint);
    }
    return registry;
  }

  /**
   * Counts a call that has ended.
   *
   * @param subject The method's subject.
   * @param startedAt When it began (`performance.now()`).
   * @param error Its error, if it failed.
   */
  record(subject: string, startedAt: number, error: RpcError | undefined): void {
    const endpoint = this.#bySubject.get(subject);
    if (!endpoint) return;
    endpoint.num_requests++;
    endpoint.processing_time += Math.round((performance.now() - startedAt) * 1e6);
    if (error) {
      endpoint.num_errors++;
      endpoint.last_error = `${error.code}: ${error.message}`;
    }
  }

  /**
   * Answers `$SRV` requests on a connection.
   *
   * @param nc The connection.
   */
  listen(nc: NatsConnection): void {
    const callback = (_error: unknown, msg: Msg) => this.#answer(msg);
    for (const subject of ["$SRV.*", "$SRV.*.*", "$SRV.*.*.*"]) {
      this.#subscriptions.push(nc.subscribe(subject, { callback }));
    }
  }

  /** Stops answering: this process no longer shows up in NATS tooling. */
  stop(): void {
    for (const subscription of this.#subscriptions.splice(0)) subscription.unsubscribe();
  }

  #answer(msg: Msg): void {
    if (!msg.reply) return;
    const [, verb, name, id] = msg.subject.split(".");
    const type = verb === "PING"
      ? "ping_response"
      : verb === "INFO"
      ? "info_response"
      : verb === "STATS"
      ? "stats_response"
      : undefined;
    if (!type) return;
    for (const service of this.#services) {
      if (name !== undefined && name !== service.name) continue;
      if (id !== undefined && id !== service.id) continue;
      const base = {
        type: `io.nats.micro.v1.${type}`,
        name: service.name,
        id: service.id,
        version: service.version,
        metadata: service.metadata,
      };
      const body = verb === "PING" ? base : verb === "INFO"
        ? {
          ...base,
          description: service.description,
          endpoints: service.endpoints.map(({ name, subject, queue_group, metadata }) => ({
            name,
            subject,
            queue_group,
            metadata,
          })),
        }
        : {
          ...base,
          started: this.#started,
          endpoints: service.endpoints.map((e) => ({
            name: e.name,
            subject: e.subject,
            queue_group: e.queue_group,
            num_requests: e.num_requests,
            num_errors: e.num_errors,
            last_error: e.last_error,
            processing_time: e.processing_time,
            average_processing_time: e.num_requests === 0
              ? 0
              : Math.trunc(e.processing_time / e.num_requests),
          })),
        };
      try {
        msg.respond(JSON.stringify(body));
      } catch {
        // The connection is closing.
      }
    }
  }
}

function typeName(side: "input" | "output", schema: unknown): Record<string, string> {
  const ref = (schema as { $ref?: unknown } | undefined)?.$ref;
  return typeof ref === "string" ? { [side]: ref.replace(/^#\/\$defs\//, "") } : {};
}

/**
 * The schema hash of a method: SHA-256 of canonical JSON (sorted keys) of its pattern, input and
 * output schemas, and every definition they reach.
 */
async function schemaHash(
  pattern: string,
  method: MethodDescription | undefined,
  document: IntrospectionDocument,
): Promise<string> {
  const defs: Record<string, unknown> = {};
  const queue = [...refsIn([method?.input, method?.output])];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (name in defs) continue;
    defs[name] = document.$defs[name];
    queue.push(...refsIn(document.$defs[name]));
  }
  const text = canonicalJson({ pattern, input: method?.input, output: method?.output, defs });
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item) => {
    if (typeof item !== "object" || item === null || Array.isArray(item)) return item;
    return Object.fromEntries(
      Object.keys(item).sort().map((key) => [key, (item as Record<string, unknown>)[key]]),
    );
  });
}
