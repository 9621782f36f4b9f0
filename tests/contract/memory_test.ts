/** The contract against the in-memory transport of @microapi/core/testing: no sockets at all. */
import { runtime } from "../_harness.ts";
import { fixtureServices } from "../_fixtures.ts";
import { Connection, MicroAPI } from "../../mod.ts";
import { createTestConnection, MemoryTransport } from "../../src/testing/mod.ts";
import { contract } from "./suite.ts";

contract(`${runtime} memory`, async () => {
  const { services } = fixtureServices();
  const app = new MicroAPI({ services, onError: () => {} });
  const connection = await createTestConnection(app);
  return {
    connection,
    url: "memory",
    connect: () => new Connection("http://memory.invalid", { transport: new MemoryTransport(app) }),
    async [Symbol.asyncDispose]() {
      await connection.close();
      await app.stop();
    },
  };
});
