import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import {
  buildIntrospection,
  type IntrospectionDocument,
  parseIntrospection,
  Service,
  stream,
  streaming,
  z,
} from "../../mod.ts";

const Item = z.object({ n: z.number().int().describe("How many") });

function services(): Service[] {
  const plain = new Service("shop", { description: "Sells things" })
    .method(
      "get",
      { input: z.object({ id: z.string() }), output: Item, description: "One" },
      () => ({
        n: 1,
      }),
    )
    .method("list", { input: z.object({}), output: streaming(Item) }, async function* () {})
    .method("upload", { input: stream(Item), output: Item, deprecated: "Use put" }, () => ({
      n: 1,
    }))
    .method("chat", { input: stream(Item), output: streaming(Item) }, async function* () {})
    .method("ping", {}, () => {});
  const versioned = new Service("shop", { version: 2, deprecated: true })
    .method("get", { input: z.object({ id: z.string() }), output: Item }, () => ({ n: 2 }));
  return [plain, versioned];
}

test("buildIntrospection() describes services, methods, patterns, paths and deprecation", () => {
  const doc = buildIntrospection(services(), { schemaNames: new Map([[Item, "Item"]]) });
  assert.equal(doc.microapi, 1);
  assert.deepEqual(
    doc.services.map((s) => [s.name, s.version, s.description, s.deprecated]),
    [["shop", undefined, "Sells things", undefined], ["shop", 2, undefined, true]],
  );
  const [shop, shop2] = doc.services;
  assert.deepEqual(shop!.methods.map((m) => [m.name, m.pattern, m.path]), [
    ["get", "unary", "/shop/get"],
    ["list", "server_streaming", "/shop/list"],
    ["upload", "client_streaming", "/shop/upload"],
    ["chat", "bidi_streaming", "/shop/chat"],
    ["ping", "unary", "/shop/ping"],
  ]);
  assert.equal(shop2!.methods[0]!.path, "/v2/shop/get");
  assert.equal(shop!.methods[0]!.description, "One");
  assert.equal(shop!.methods[2]!.deprecated, "Use put");
  assert.equal("deprecated" in shop!.methods[0]!, false);
  // No input, no output: the keys are absent.
  assert.deepEqual(Object.keys(shop!.methods[4]!).sort(), ["name", "path", "pattern"]);
  assert.deepEqual(shop!.methods[2]!.input, { $ref: "#/$defs/Item" });
  // The document is plain JSON.
  assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc);
});

test("buildIntrospection() names schemas by .meta({ id }), then export name, then the method", () => {
  const Named = z.object({ a: z.string() }).meta({ id: "FromMeta" });
  const Exported = z.object({ b: z.string() });
  const service = new Service("svc")
    .method("one", { input: Named, output: Exported }, () => ({ b: "" }))
    .method("two", { input: z.object({ c: z.string() }), output: z.string() }, () => "");
  const doc = buildIntrospection([service], {
    schemaNames: new Map<object, string>([[Named, "Ignored"], [Exported, "exportedSchema"]]),
  });
  assert.deepEqual(Object.keys(doc.$defs), ["FromMeta", "Exported", "TwoRequest", "TwoResponse"]);
  const [one, two] = doc.services[0]!.methods;
  assert.deepEqual([one!.input, one!.output], [
    { $ref: "#/$defs/FromMeta" },
    { $ref: "#/$defs/Exported" },
  ]);
  assert.deepEqual(two!.output, { $ref: "#/$defs/TwoResponse" });
  assert.deepEqual(doc.$defs.TwoResponse, { type: "string" });
});

test("buildIntrospection() gives names taken by another schema a number, and keeps names of services apart", () => {
  const A = z.object({ a: z.string() });
  const B = z.object({ b: z.string() });
  const first = new Service("first").method("get", { input: A }, () => {});
  const second = new Service("second").method("get", { input: B }, () => {});
  const doc = buildIntrospection([first, second], {
    schemaNames: new Map<object, string>([[A, "Thing"], [B, "Thing"]]),
  });
  assert.deepEqual(Object.keys(doc.$defs), ["Thing", "Thing2"]);

  const anonymous = buildIntrospection([
    new Service("first").method("get", { input: z.object({ a: z.string() }) }, () => {}),
    new Service("second").method("get", { input: z.object({ b: z.string() }) }, () => {}),
  ]);
  assert.deepEqual(Object.keys(anonymous.$defs), ["GetRequest", "SecondGetRequest"]);
});

test("buildIntrospection() keeps a named schema used inside another as a $ref", () => {
  const Address = z.object({ city: z.string() });
  const User = z.object({ home: Address, work: Address.nullable() });
  const service = new Service("users").method("get", { output: User }, () => ({
    home: { city: "x" },
    work: null,
  }));
  const doc = buildIntrospection([service], {
    schemaNames: new Map<object, string>([[Address, "Address"], [User, "User"]]),
  });
  const user = doc.$defs.User as { properties: Record<string, unknown> };
  assert.deepEqual(user.properties.home, { $ref: "#/$defs/Address" });
  assert.deepEqual(user.properties.work, {
    anyOf: [{ $ref: "#/$defs/Address" }, { type: "null" }],
  });
  assert.deepEqual(doc.$defs.Address, {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  });
});

test("buildIntrospection() splits a schema whose input and output differ into X and XInput", () => {
  const Settings = z.object({ theme: z.string().default("light") });
  const Plain = z.object({ name: z.string() });
  const service = new Service("settings")
    .method("put", { input: Settings, output: Settings }, (s) => s)
    .method("echo", { input: Plain, output: Plain }, (p) => p);
  const doc = buildIntrospection([service], {
    schemaNames: new Map<object, string>([[Settings, "Settings"], [Plain, "Plain"]]),
  });
  const put = doc.services[0]!.methods[0]!;
  assert.deepEqual(put.input, { $ref: "#/$defs/SettingsInput" });
  assert.deepEqual(put.output, { $ref: "#/$defs/Settings" });
  assert.deepEqual((doc.$defs.SettingsInput as { required?: string[] }).required, undefined);
  assert.deepEqual((doc.$defs.Settings as { required?: string[] }).required, ["theme"]);
  // Differing only in unknown keys (allowed in input, dropped from output) is not a difference.
  const echo = doc.services[0]!.methods[1]!;
  assert.deepEqual([echo.input, echo.output], [{ $ref: "#/$defs/Plain" }, {
    $ref: "#/$defs/Plain",
  }]);
  assert.equal("PlainInput" in doc.$defs, false);
});

test("buildIntrospection() names anonymous recursive schemas after the method's type", () => {
  interface Node {
    children: Node[];
  }
  const Tree: z.ZodType<Node> = z.object({
    get children() {
      return z.array(Tree);
    },
  });
  const service = new Service("trees").method("get", { output: z.object({ root: Tree }) }, () => ({
    root: { children: [] },
  }));
  const doc = buildIntrospection([service]);
  assert.deepEqual(Object.keys(doc.$defs), ["GetResponse", "GetResponseNode"]);
  const node = doc.$defs.GetResponseNode as { properties: { children: { items: unknown } } };
  assert.deepEqual(node.properties.children.items, { $ref: "#/$defs/GetResponseNode" });
});

test("parseIntrospection() accepts a built document and rejects others with the source named", () => {
  const doc: IntrospectionDocument = buildIntrospection(services());
  assert.deepEqual(parseIntrospection(JSON.parse(JSON.stringify(doc)), "http://x"), doc);
  assert.throws(
    () => parseIntrospection({ hello: 1 }, "http://x/_microapi/introspection"),
    /^TypeError: http:\/\/x\/_microapi\/introspection is not a microapi introspection document$/,
  );
  assert.throws(
    () => parseIntrospection({ ...doc, microapi: 2 }, "http://x"),
    /http:\/\/x uses introspection format 2; this microapi reads format 1/,
  );
  const broken = structuredClone(doc) as unknown as {
    services: { methods: { pattern: string }[] }[];
  };
  broken.services[0]!.methods[1]!.pattern = "sideways";
  assert.throws(
    () => parseIntrospection(broken, "http://x"),
    /Invalid introspection document from http:\/\/x: services\.0\.methods\.1\.pattern: /,
  );
});
