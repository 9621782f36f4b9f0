/**
 * The contract over NATS: a nats-server per test, the fixtures served with serveNats() in this
 * runtime, and connections through natsTransport() (tests/nats/ has the multi-process tests,
 * with servers in the other runtime too).
 */
import { runtime } from "../_harness.ts";
import { fixtureServices } from "../_fixtures.ts";
import { startNatsServer } from "../_nats.ts";
import { Connection, MicroAPI } from "../../mod.ts";
import { natsTransport, serveNats } from "../../src/nats/mod.ts";
import { contract, type Target } from "./suite.ts";

async function overNats(): Promise<Target> {
  const nats = await startNatsServer();
  try {
    const { services } = fixtureServices();
    const server = await serveNats(new MicroAPI({ services, onError: () => {} }), {
      servers: nats.url,
    });
    const connect = () => new Connection(nats.url, { transport: natsTransport() });
    const connection = connect();
    return {
      connection,
      url: nats.url,
      connect,
      async [Symbol.asyncDispose]() {
        await connection.close();
        await server.shutdown({ gracePeriodMs: 1000 });
        await nats.stop();
      },
    };
  } catch (error) {
    await nats.stop();
    throw error;
  }
}

contract(`${runtime} nats`, overNats);
