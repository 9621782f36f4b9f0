/// <reference lib="dom" />
/**
 * The dev console in a real browser (headless Chromium through puppeteer-core), used as a person
 * uses it: open the page, pick a method in the list, type into the generated form, press the
 * buttons, and read what the page shows. The server runs in this runtime (Deno or Bun), with the
 * example services, the fixtures' probes and a service whose input exercises the form.
 *
 * Screenshots go to a temp dir; with MICROAPI_CONSOLE_SCREENSHOTS=docs/console they are written
 * there too (the ones docs/console.md shows).
 */
import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { fixtureServices } from "../_fixtures.ts";
import { MicroAPI, Service, z } from "../../mod.ts";
import { analytics } from "../../examples/analytics.ts";
import { accounts } from "../../examples/auth.ts";
import { chat } from "../../examples/chat.ts";
import { users } from "../../examples/users.ts";
import {
  assertNoProblems,
  fill,
  openConsole,
  pick,
  type Session,
  settled,
  shownJson,
  text,
} from "./_browser.ts";

const Submission = z.object({
  name: z.string().min(1),
  count: z.number().int().min(1).default(3),
  ratio: z.number().optional(),
  level: z.enum(["low", "high"]),
  address: z.object({ city: z.string(), zip: z.string().regex(/^\d{5}$/).optional() }),
  tags: z.array(z.string()),
  shape: z.discriminatedUnion("kind", [
    z.object({ kind: z.literal("circle"), radius: z.number() }),
    z.object({ kind: z.literal("rect"), width: z.number(), height: z.number() }),
  ]),
  note: z.string().nullable(),
});

const forms = new Service("forms", { description: "Echoes what the form sent" }).method(
  "submit",
  { input: Submission, output: Submission, description: "Returns the submission as parsed." },
  (input) => input,
);

const legacy = new Service("legacy", {
  version: 2,
  description: "Old things",
  deprecated: "Use forms",
})
  .method("ping", { description: "Answers nothing." }, () => {})
  .method("pong", { deprecated: "Use ping" }, () => {});

/** The app the console is tested against, and what reached its handlers. */
async function serveApp() {
  const { services, probe } = fixtureServices();
  const calls: string[] = [];
  const app = new MicroAPI({
    services: [
      users,
      analytics,
      chat,
      accounts,
      services.find((s) => s.name === "probes")!,
      forms,
      legacy,
    ],
    middleware: [(ctx, next) => {
      calls.push(`${ctx.service}/${ctx.method}`);
      return next();
    }],
    onError: () => {},
  });
  const server = await app.serve({ port: 0, hostname: "127.0.0.1" });
  return { server, probe, calls };
}

/** Runs a test body with a server and a browser on its console, and cleans both up. */
async function withConsole(
  body: (session: Session, served: Awaited<ReturnType<typeof serveApp>>) => Promise<void>,
  options: Parameters<typeof openConsole>[1] = {},
): Promise<void> {
  const served = await serveApp();
  try {
    const session = await openConsole(served.server, options);
    try {
      await body(session, served);
      assertNoProblems(session);
    } finally {
      await session.close();
    }
  } finally {
    await served.server.shutdown({ gracePeriodMs: 200 });
  }
}

const slow = { timeoutMs: 120_000 };

test(
  "console: search, then a unary call from the form shows the result and its status",
  async () => {
    await withConsole(async (session, { calls }) => {
      const { page } = session;
      await page.type("#search", "get_us");
      assert.deepEqual(
        await page.$$eval(
          "#services a.method:not([hidden])",
          (links) => links.map((l) => l.getAttribute("data-path")),
        ),
        ["/users/get_user"],
      );
      await page.keyboard.press("Enter");
      await page.waitForSelector("#method-title");
      assert.match(await text(page, "#method-title"), /^users\.get_user/);
      assert.match(await text(page, ".method-head"), /Fetches one user by id\./);
      await page.type('input[name="user_id"]', "7");
      assert.deepEqual(
        JSON.parse(await page.$eval("textarea#raw-json", (e) => e.value)),
        { user_id: 7 },
      );
      await page.click("#send");
      assert.match(await settled(page, "ok"), /^OK · \d+ ms$/);
      assert.deepEqual(await shownJson(page, "#result"), {
        user_id: 7,
        username: "grace",
        age: 27,
      });
      await session.shot("unary");
      assert.deepEqual(calls, ["users/get_user"]);

      // The deep link survives a reload, and history offers the call again.
      assert.equal(new URL(page.url()).hash, "#/users/get_user");
      await page.reload();
      await page.waitForSelector("#method-title");
      assert.match(await text(page, "#method-title"), /^users\.get_user/);
      assert.match(await text(page, "#history"), /ok\s+\d+ ms · WebSocket\s+\{"user_id":7\}/);
      await page.click("#history button.rerun");
      await settled(page, "ok");
      assert.deepEqual(await shownJson(page, "#result"), {
        user_id: 7,
        username: "grace",
        age: 27,
      });
      assert.deepEqual(calls, ["users/get_user", "users/get_user"]);
      assert.equal(await page.$$eval("#history li.entry", (items) => items.length), 2);

      // Versions and deprecation notices, in the list and on the method.
      assert.match(await text(page, "#services"), /legacy\s*v2\s*deprecated/);
      assert.equal(
        await page.$eval('a.method[data-path="/v2/legacy/pong"]', (a) => a.className),
        "method is-deprecated",
      );
      await pick(page, "/v2/legacy/pong");
      assert.match(await text(page, "#method-title"), /^legacy\.pong\s*unary\s*v2$/);
      assert.match(await text(page, ".method-head .route"), /^POST \/v2\/legacy\/pong$/);
      assert.equal(await text(page, "#deprecation"), "Deprecated: Use ping");
      await pick(page, "/v2/legacy/ping");
      assert.equal(await text(page, "#deprecation"), "Deprecated service: Use forms");
      assert.equal(new URL(page.url()).hash, "#/v2/legacy/ping");
      await page.click("#send");
      await settled(page, "ok");
      assert.equal(
        await text(page, "#result"),
        "(no response message: the method returns nothing)",
      );
      assert.deepEqual(calls.slice(2), ["legacy/ping"]);
    });
  },
  slow,
);

test(
  "console: metadata goes out, response headers and trailers come back, over WebSocket and HTTP",
  async () => {
    await withConsole(async (session) => {
      const { page } = session;
      await pick(page, "/probes/metadata");
      assert.match(await text(page, ".pane.request"), /This method takes no input\./);
      await page.click("#add-metadata");
      await page.type('input[name="meta-name"]', "x-caller");
      await page.type('input[name="meta-value"]', "console");
      for (const transport of ["ws", "http"]) {
        await page.select("#transport", transport);
        await page.click("#send");
        await settled(page, "ok");
        assert.deepEqual(await shownJson(page, "#result"), { caller: "console" }, transport);
        assert.match(await text(page, "#headers"), /x-served-by\s+probes/, transport);
        assert.match(await text(page, "#trailers"), /x-cost\s+7/, transport);
      }
      assert.match(await text(page, "#history"), /HTTP[\s\S]*WebSocket/);
    });
  },
  slow,
);

test(
  "console: a server stream shows its messages live with count and rate; Stop cancels it",
  async () => {
    await withConsole(async (session, { probe }) => {
      const { page } = session;
      await pick(page, "/users/list_users");
      // The default is filled in.
      assert.equal(await page.$eval('input[name="limit"]', (e) => e.value), "100");
      await fill(page, 'input[name="limit"]', "6");
      await page.click("#send");
      await settled(page, "ok");
      assert.match(await text(page, "#stats"), /^6 received · [\d.]+ msg\/s$/);
      const shown = await page.$$eval(
        "#messages li.received pre",
        (items) => items.map((i) => JSON.parse(i.textContent!).username),
      );
      assert.deepEqual(shown, ["alice", "bob", "carol", "dave", "erin", "frank"]);
      await session.shot("server-streaming");

      // A fast stream: the count goes on, the list keeps the latest 500.
      await pick(page, "/probes/count");
      await page.type('input[name="to"]', "3000");
      await page.click("#send");
      await settled(page, "ok");
      assert.match(
        await text(page, "#stats"),
        /^3000 received · [\d.]+ msg\/s · 2500 oldest not shown$/,
      );
      assert.equal(await page.$$eval("#messages li", (items) => items.length), 500);
      assert.match(
        await text(page, "#messages li:last-child"),
        /^← #3000 · \+\d+ ms\s+\{"i":2999,"pad":""\}$/,
      );
      await pick(page, "/users/list_users");

      // Over HTTP too.
      await page.select("#transport", "http");
      await fill(page, 'input[name="limit"]', "2");
      await page.click("#send");
      await settled(page, "ok");
      assert.match(await text(page, "#stats"), /^2 received/);

      // An endless stream: Stop cancels it, and the server's handler sees that.
      await pick(page, "/probes/ticks");
      await page.type('input[name="every_ms"]', "40");
      await page.click("#send");
      await page.waitForFunction(
        () =>
          /^(\d+) received/.test(document.querySelector("#stats")?.textContent ?? "") &&
          Number(document.querySelector("#stats")!.textContent!.split(" ")[0]) >= 3,
      );
      assert.match(await text(page, "#status"), /^Running/);
      await page.click("#stop");
      assert.match(await settled(page, "cancelled"), /^cancelled · \d+ ms$/);
      assert.match(await text(page, "#error"), /You cancelled this call/);
      const deadline = Date.now() + 5_000;
      while (!probe.finalized.has("ticks") && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(probe.finalized.has("ticks"), "the server's handler ran its finally");
      assert.ok(probe.contexts.get("ticks")!.signal.aborted, "the server's handler saw the cancel");
      assert.match(await text(page, "#send"), /Send/);

      // Leaving the method cancels a stream that is still running.
      await page.click("#send");
      await page.waitForFunction(() =>
        /^[1-9]\d* received/.test(document.querySelector("#stats")?.textContent ?? "")
      );
      const second = probe.contexts.get("ticks")!;
      assert.equal(second.signal.aborted, false);
      await pick(page, "/users/get_user");
      const until = Date.now() + 5_000;
      while (!second.signal.aborted && Date.now() < until) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.ok(second.signal.aborted, "the stream was cancelled when the method was left");
    });
  },
  slow,
);

test(
  "console: a client stream sends messages one by one, then End shows the response",
  async () => {
    await withConsole(async (session, { calls }) => {
      const { page } = session;
      await pick(page, "/analytics/aggregate");
      // Browsers cannot stream a request body over HTTP: only WebSocket is offered.
      assert.equal(await page.$eval('#transport option[value="http"]', (o) => o.disabled), true);
      await page.type('input[name="timestamp"]', "1700000000000");
      for (const value of ["2", "3", "5"]) {
        await fill(page, 'input[name="value"]', value);
        await page.click("#send");
        await page.waitForFunction(
          (n) => document.querySelectorAll("#messages li.sent").length === n,
          {},
          Number(value === "2" ? 1 : value === "3" ? 2 : 3),
        );
      }
      assert.match(await text(page, "#status"), /^Running/);
      assert.match(await text(page, "#stats"), /^3 sent$/);
      await page.click("#end");
      await settled(page, "ok");
      assert.deepEqual(await shownJson(page, "#result"), {
        count: 3,
        sum: 10,
        mean: 10 / 3,
        min: 2,
        max: 5,
      });
      await session.shot("client-streaming");
      assert.deepEqual(calls, ["analytics/aggregate"]);
      assert.match(await text(page, "#history"), /ok[\s\S]*"value":2[\s\S]*"value":5/);

      // Re-run from history sends the same messages again, then ends.
      await page.click("#history button.rerun");
      await page.waitForFunction(() => document.querySelectorAll("#history li.entry").length === 2);
      assert.deepEqual(await shownJson(page, "#result"), {
        count: 3,
        sum: 10,
        mean: 10 / 3,
        min: 2,
        max: 5,
      });
      assert.deepEqual(calls, ["analytics/aggregate", "analytics/aggregate"]);
    });
  },
  slow,
);

test(
  "console: a bidi conversation interleaves what was sent and received; End and Cancel",
  async () => {
    await withConsole(async (session, { calls }) => {
      const { page } = session;
      await pick(page, "/chat/conversation");
      await page.type('input[name="user"]', "ada");
      await page.type('textarea[name="text"]', "hello there");
      await page.click("#send");
      await page.waitForSelector("#messages li.received");
      await fill(page, 'textarea[name="text"]', "how are you today");
      // Ctrl+Enter sends too.
      await page.keyboard.down("Control");
      await page.keyboard.press("Enter");
      await page.keyboard.up("Control");
      await page.waitForFunction(() =>
        document.querySelectorAll("#messages li.received").length === 2
      );
      const conversation = await page.$$eval(
        "#messages li",
        (items) => items.map((i) => `${i.className}: ${i.querySelector("pre")?.textContent ?? ""}`),
      );
      assert.deepEqual(conversation, [
        'sent: {"user":"ada","text":"hello there"}',
        'received: {"text":"ada, you said 2 words: \\"hello there\\"","in_reply_to":0}',
        'sent: {"user":"ada","text":"how are you today"}',
        'received: {"text":"ada, you said 4 words: \\"how are you today\\"","in_reply_to":1}',
      ]);
      assert.match(await text(page, "#status"), /^Running/);
      assert.match(await text(page, "#stats"), /^2 sent · 2 received/);
      await session.shot("bidi-streaming");
      await page.click("#end");
      await settled(page, "ok");
      assert.match(await text(page, "#messages"), /You ended your side[\s\S]*The server ended/);

      // A new conversation, cancelled halfway.
      await page.click("#send");
      await page.waitForSelector("#messages li.received");
      await page.click("#cancel");
      await settled(page, "cancelled");
      assert.match(await text(page, "#messages"), /Cancelled/);
      assert.deepEqual(calls, ["chat/conversation", "chat/conversation"]);
    });
  },
  slow,
);

test(
  "console: invalid input is not sent; a server error shows its code, message and details",
  async () => {
    await withConsole(async (session, { calls }) => {
      const { page } = session;
      await pick(page, "/users/get_user");
      await page.click("#send");
      assert.match(await text(page, "#issues"), /Not sent: 1 problem to fix\s+user_id required/);
      assert.equal(await text(page, '[data-error="/user_id"]'), "required");
      await page.type('input[name="user_id"]', "0");
      // Once shown, problems follow the input as it changes.
      assert.equal(await text(page, '[data-error="/user_id"]'), "must be > 0");
      await page.click("#send");
      assert.match(await text(page, "#issues"), /user_id must be > 0/);
      await fill(page, 'input[name="user_id"]', "1.5");
      assert.equal(await text(page, '[data-error="/user_id"]'), "must be a whole number");
      await fill(page, "#timeout", "-4");
      assert.match(await text(page, "#issues"), /timeout must be a whole number of milliseconds/);
      await fill(page, "#timeout", "");
      assert.match(await text(page, "#status"), /Not called yet/);
      assert.deepEqual(calls, [], "nothing reached the server");
      await session.shot("validation");

      await fill(page, 'input[name="user_id"]', "5000");
      assert.equal(await text(page, "#issues"), "");
      await page.click("#send");
      assert.match(await settled(page, "error"), /^not_found · \d+ ms$/);
      assert.equal(await text(page, "#error .code"), "not_found");
      assert.equal(await text(page, "#error .message"), "No user with id 5000");
      assert.deepEqual(await shownJson(page, "#error .details"), { user_id: 5000 });
      assert.deepEqual(calls, ["users/get_user"]);
      assert.match(await text(page, "#history"), /not_found/);

      // A server-side check the schema cannot express (the timeout): deadline_exceeded.
      await pick(page, "/probes/slow");
      await page.type('input[name="ms"]', "2000");
      await page.type("#timeout", "50");
      await page.click("#send");
      assert.match(await settled(page, "error"), /^deadline_exceeded/);
    });
  },
  slow,
);

test("console: the form follows the schema, and the raw JSON editor stays in sync", async () => {
  await withConsole(async (session) => {
    const { page } = session;
    await pick(page, "/forms/submit");
    const raw = async () => JSON.parse(await page.$eval("textarea#raw-json", (e) => e.value));
    // Defaults are filled in; optional fields without one start left out.
    assert.equal(await page.$eval('input[name="count"]', (e) => e.value), "3");
    assert.equal(await page.$('input[name="ratio"]'), null);
    assert.match(
      await text(page, '[data-path="/name"] .label'),
      /^name\s*\*\s*string\s*at least 1 character$/,
    );
    await page.type('input[name="name"]', "box");
    await page.select('select[name="level"]', "1"); // "high"
    await page.type('input[name="address.city"]', "Paris");
    await page.click('input[name="include:address.zip"]');
    await page.type('input[name="address.zip"]', "7500");
    await page.click('input[name="include:ratio"]');
    await page.type('input[name="ratio"]', "0.5");
    // Arrays: add two items, remove the first.
    await page.click('button[name="add:tags"]');
    await page.click('button[name="add:tags"]');
    await page.type('input[name="tags[0]"]', "a");
    await page.type('input[name="tags[1]"]', "b");
    await page.click('[data-path="/tags/0"] button.remove');
    // The discriminated union: switch to the other variant.
    await page.select('select[name="variant:shape"]', "1");
    await page.type('input[name="shape.width"]', "2");
    await page.type('input[name="shape.height"]', "3");
    // A nullable field starts null; untick null to give it a value.
    assert.equal(await page.$eval('input[name="null:note"]', (e) => e.checked), true);
    await page.click('input[name="null:note"]');
    await page.type('input[name="note"]', "hi");
    const expected = {
      name: "box",
      count: 3,
      ratio: 0.5,
      level: "high",
      address: { city: "Paris", zip: "7500" },
      tags: ["b"],
      shape: { kind: "rect", width: 2, height: 3 },
      note: "hi",
    };
    assert.deepEqual(await raw(), expected);
    // The pattern is checked before sending.
    await page.click("#send");
    assert.equal(await text(page, '[data-error="/address/zip"]'), "must match /^\\d{5}$/");
    await page.type('input[name="address.zip"]', "1");
    assert.equal(await text(page, "#issues"), "");
    await session.shot("form");
    await page.click("#send");
    await settled(page, "ok");
    assert.deepEqual(await shownJson(page, "#result"), {
      ...expected,
      address: { city: "Paris", zip: "75001" },
    });

    // Editing the JSON rebuilds the form.
    await fill(
      page,
      "#raw-json",
      '{"name":"x","level":"low","address":{"city":"Rome"},"tags":[],"shape":{"kind":"circle","radius":1},"note":null}',
    );
    assert.equal(await page.$eval('input[name="shape.radius"]', (e) => e.value), "1");
    assert.equal(await page.$eval('select[name="variant:shape"]', (e) => e.value), "0");
    assert.equal(await page.$('input[name="count"]'), null, "count is left out");
    assert.equal(await page.$eval('input[name="address.city"]', (e) => e.value), "Rome");
    await page.type("#raw-json", "oops");
    assert.match(await text(page, "#raw-error"), /^Not valid JSON/);
    assert.equal(await page.$eval('input[name="address.city"]', (e) => e.value), "Rome");
  });
}, slow);

test(
  "console: Copy as curl gives a command that makes the same call; Copy as TypeScript a snippet",
  async () => {
    await withConsole(async (session, { server }) => {
      const { page } = session;
      await pick(page, "/users/get_user");
      await page.type('input[name="user_id"]', "7");
      await page.click("#add-metadata");
      await page.type('input[name="meta-name"]', "x-request-id");
      await page.type('input[name="meta-value"]', "it's me");
      await page.type("#timeout", "5000");
      await page.click("#copy-curl");
      await page.waitForFunction(() =>
        document.querySelector("#copy-note")?.textContent === "Copied to the clipboard"
      );
      const clipboard = await page.evaluate(() => navigator.clipboard.readText());
      assert.equal(await text(page, "#snippet"), clipboard.trimEnd());
      assert.equal(
        clipboard,
        `curl -sS -X POST '${server.url}/users/get_user' \\\n` +
          `  -H 'content-type: application/json' \\\n` +
          `  -H 'x-request-id: it'\\''s me' \\\n` +
          `  -H 'microapi-timeout-ms: 5000' \\\n` +
          `  -d '{"user_id":7}'`,
      );
      // What the command sends, made with fetch: the same answer the page showed.
      const words = [...clipboard.matchAll(/'((?:[^']|'\\'')*)'/g)].map((m) =>
        m[1]!.replaceAll("'\\''", "'")
      );
      const headers = new Headers(words.slice(1, -1).map((h) => h.split(": ") as [string, string]));
      const response = await fetch(words[0]!, { method: "POST", headers, body: words.at(-1) });
      assert.deepEqual(await response.json(), { user_id: 7, username: "grace", age: 27 });

      await page.click("#copy-ts");
      await page.waitForFunction(() =>
        document.querySelector("#snippet")?.getAttribute("data-kind") === "ts"
      );
      assert.equal(
        await page.evaluate(() => navigator.clipboard.readText()),
        [
          `// microapi generate ${server.url} --out lib/`,
          `import { Connection } from "@microapi/core";`,
          `import { users } from "./lib/mod.ts";`,
          "",
          `Connection.setDefault(new Connection("${server.url}", { transport: "ws" }));`,
          `const response = await users.getUser({"user_id":7}, { timeoutMs: 5000, metadata: {"x-request-id":"it's me"} });`,
          "console.log(response);",
          "",
        ].join("\n"),
      );

      // A client stream's curl sends the messages of the call as NDJSON.
      await pick(page, "/analytics/aggregate");
      await page.type('input[name="timestamp"]', "1");
      await page.type('input[name="value"]', "4");
      await page.click("#send");
      await page.waitForSelector("#messages li.sent");
      await page.click("#copy-curl");
      await page.waitForSelector('#snippet[data-kind="curl"]');
      assert.equal(
        await page.evaluate(() => navigator.clipboard.readText()),
        `printf '%s\\n' '{"timestamp":1,"value":4}' | curl -sS -X POST '${server.url}/analytics/aggregate' \\\n` +
          `  -H 'content-type: application/x-ndjson' \\\n` +
          `  --data-binary @-`,
      );
      await page.click("#cancel");
      await settled(page, "cancelled");
    });
  },
  slow,
);

test("console: usable in a narrow window, in the dark theme the system asks for", async () => {
  await withConsole(async (session) => {
    const { page } = session;
    await pick(page, "/chat/conversation");
    const layout = await page.evaluate(() => ({
      overflow: document.documentElement.scrollWidth - innerWidth,
      background: getComputedStyle(document.body).backgroundColor,
    }));
    assert.ok(layout.overflow <= 0, `the page is ${layout.overflow}px wider than the window`);
    assert.equal(layout.background, "rgb(21, 24, 29)");
    await page.type('input[name="user"]', "ada");
    await page.type('textarea[name="text"]', "hi from a phone");
    const send = await page.$("#send");
    await send!.scrollIntoView();
    assert.ok(await send!.isIntersectingViewport(), "Send is on screen");
    await send!.click();
    await page.waitForSelector("#messages li.received");
    await (await page.$("#messages"))!.scrollIntoView();
    await session.shot("narrow-dark");
    await page.click("#end");
    await settled(page, "ok");
  }, { width: 390, height: 844, dark: true, hash: "" });
}, slow);
