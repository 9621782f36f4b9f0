/// <reference lib="dom" />
/**
 * The MicroAPI dev console: a page served at `<basePath>/_microapi/console` that reads the
 * server's introspection document and calls its methods with the MicroAPI browser client. It only
 * ever talks to the origin (and base path) that served it.
 *
 * Layout: the services and their methods on the left (with search; the URL hash names the method,
 * so a link or a reload opens it again); on the right the method, its request (a form generated
 * from the input schema, the same message as raw JSON, metadata, timeout, transport) and the call.
 */
import { Connection } from "../../client/mod.ts";
import type {
  IntrospectionDocument,
  MethodDescription,
  ServiceDescription,
} from "../../schema/introspection.ts";
import { CallRun, idlePane } from "./calls.ts";
import { h, replace } from "./dom.ts";
import { renderForm } from "./form.ts";
import { History, type HistoryEntry } from "./history.ts";
import { type Defs, initialValue, type Schema } from "./schema.ts";
import { curlCommand, type SnippetCall, typescriptSnippet } from "./snippets.ts";
import { type Issue, pathWords, validate } from "./validate.ts";

const basePath = location.pathname.replace(/\/+$/, "").replace(/\/_microapi\/console$/, "");
const baseUrl = location.origin + basePath;
const history = new History(baseUrl);

const PATTERN_WORDS: Record<string, string> = {
  unary: "unary",
  server_streaming: "server stream",
  client_streaming: "client stream",
  bidi_streaming: "bidi",
};

/** What the user has typed for a method, kept while they look at other methods. */
interface Draft {
  box: { value: unknown };
  metadata: [string, string][];
  timeout: string;
  transport: "ws" | "http";
}

const drafts = new Map<string, Draft>();
const connections = new Map<string, Connection>();

function connection(transport: "ws" | "http"): Connection {
  let c = connections.get(transport);
  if (!c || c.closed) {
    c = new Connection(baseUrl, transport === "ws" ? { transport: "ws" } : {});
    connections.set(transport, c);
  }
  return c;
}

function streamsIn(method: MethodDescription): boolean {
  return method.pattern === "client_streaming" || method.pattern === "bidi_streaming";
}

const main = h("main", { id: "main" });
const search = h("input", {
  type: "search",
  id: "search",
  placeholder: "Search methods",
  "aria-label": "Search methods",
  autocomplete: "off",
});
const nav = h("div", { id: "services", role: "navigation" });
let doc: IntrospectionDocument | undefined;
let current: MethodView | undefined;

document.body.append(
  h(
    "header",
    { class: "top" },
    h("h1", {}, "MicroAPI console"),
    h("span", { class: "server", id: "server", title: "Every call goes to this server" }, baseUrl),
    h("a", { href: `${basePath}/_microapi/introspection`, target: "_blank" }, "introspection"),
  ),
  h("div", { class: "layout" }, h("aside", { class: "sidebar" }, search, nav), main),
);

search.addEventListener("input", filter);
search.addEventListener("keydown", (event) => {
  if (event.key !== "Enter") return;
  const first = nav.querySelector<HTMLAnchorElement>("a.method:not([hidden])");
  if (first) location.hash = first.hash;
});
addEventListener("hashchange", route);
addEventListener("keydown", (event) => {
  if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && current) {
    event.preventDefault();
    current.primary();
  }
});

load();

async function load(): Promise<void> {
  replace(main, h("p", { class: "hint" }, "Loading the introspection document…"));
  try {
    const response = await fetch(`${basePath}/_microapi/introspection`, {
      headers: { accept: "application/json" },
    });
    const body = await response.json();
    if (!response.ok) throw new Error(body?.message ?? `HTTP ${response.status}`);
    doc = body as IntrospectionDocument;
  } catch (error) {
    replace(
      main,
      h(
        "div",
        { class: "error-box" },
        h("div", { class: "code" }, "Cannot read the introspection document"),
        h("div", { class: "message" }, String((error as Error).message ?? error)),
      ),
    );
    return;
  }
  renderNav(doc);
  route();
}

function renderNav(document: IntrospectionDocument): void {
  replace(
    nav,
    document.services.map((service) =>
      h(
        "section",
        { class: "service" },
        h(
          "div",
          { class: "service-name", title: service.description ?? "" },
          service.name,
          service.version !== undefined && h("span", { class: "badge" }, `v${service.version}`),
          service.deprecated && h("span", { class: "badge deprecated" }, "deprecated"),
        ),
        h(
          "ul",
          {},
          service.methods.map((method) =>
            h(
              "li",
              {},
              h(
                "a",
                {
                  class: "method" +
                    (method.deprecated || service.deprecated ? " is-deprecated" : ""),
                  href: `#${method.path}`,
                  "data-path": method.path,
                  "data-search":
                    `${service.name} ${method.name} ${service.name}/${method.name} ${service.name}.${method.name} ${
                      method.description ?? ""
                    }`.toLowerCase(),
                  title: method.description ?? "",
                },
                h("span", { class: "name" }, method.name),
                h("span", { class: `pattern p-${method.pattern}` }, PATTERN_WORDS[method.pattern]),
              ),
            )
          ),
        ),
      )
    ),
    document.services.length === 0 && h("p", { class: "hint" }, "This server has no services."),
  );
  filter();
}

function filter(): void {
  const words = search.value.toLowerCase().split(/\s+/).filter(Boolean);
  for (const section of nav.querySelectorAll<HTMLElement>("section.service")) {
    let any = false;
    for (const link of section.querySelectorAll<HTMLAnchorElement>("a.method")) {
      const text = link.dataset.search ?? "";
      const match = words.every((w) => text.includes(w));
      link.hidden = !match;
      link.parentElement!.hidden = !match;
      any ||= match;
    }
    section.hidden = !any;
  }
}

function route(): void {
  if (!doc) return;
  const path = decodeURIComponent(location.hash.slice(1));
  for (const link of nav.querySelectorAll<HTMLAnchorElement>("a.method")) {
    link.classList.toggle("selected", link.dataset.path === path);
    if (link.dataset.path === path) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  for (const service of doc.services) {
    const method = service.methods.find((m) => m.path === path);
    if (method) {
      if (current?.method !== method) {
        current?.dispose();
        current = new MethodView(service, method, doc.$defs as Defs);
        replace(main, current.element);
        document.title = `${service.name}.${method.name} · MicroAPI console`;
      }
      return;
    }
  }
  current?.dispose();
  current = undefined;
  document.title = "MicroAPI console";
  const count = doc.services.reduce((n, s) => n + s.methods.length, 0);
  replace(
    main,
    h(
      "div",
      { class: "welcome" },
      h("h2", {}, "Pick a method"),
      h(
        "p",
        {},
        `${doc.services.length} service${doc.services.length === 1 ? "" : "s"}, ${count} method${
          count === 1 ? "" : "s"
        } at ${baseUrl}. Calls go over WebSocket (every pattern) or HTTP (unary and server streaming).`,
      ),
      path !== "" && h("p", { class: "error-text" }, `No method at ${path}.`),
    ),
  );
}

/** The view of one method: its description, request pane and response pane. */
class MethodView {
  readonly element: HTMLElement;
  readonly service: ServiceDescription;
  readonly method: MethodDescription;
  #defs: Defs;
  #draft: Draft;
  #attempted = false;
  #run: CallRun | undefined;
  #form = h("div", { id: "form" });
  #raw = h("textarea", {
    id: "raw-json",
    rows: 6,
    spellcheck: false,
    "aria-label": "Message as JSON",
  });
  #rawError = h("div", { class: "error-text", id: "raw-error" });
  #metadata = h("div", { class: "metadata", id: "metadata" });
  #issues = h("div", { class: "issues", id: "issues" });
  #actions = h("div", { class: "actions", id: "actions" });
  #snippet = h("div", { class: "snippet", id: "snippet-box" });
  #history = h("ol", { class: "history", id: "history" });
  #response = h("section", { class: "pane response", id: "response" });
  #transport: HTMLSelectElement;
  #timeout: HTMLInputElement;

  constructor(service: ServiceDescription, method: MethodDescription, defs: Defs) {
    this.service = service;
    this.method = method;
    this.#defs = defs;
    let draft = drafts.get(method.path);
    if (!draft) {
      draft = {
        box: { value: method.input ? initialValue(method.input, defs) : undefined },
        metadata: [],
        timeout: "",
        transport: "ws",
      };
      drafts.set(method.path, draft);
    }
    this.#draft = draft;
    const onlyWs = streamsIn(method);
    this.#transport = h(
      "select",
      {
        id: "transport",
        onchange: () => (this.#draft.transport = this.#transport.value as "ws" | "http"),
      },
      h("option", { value: "ws", selected: draft.transport === "ws" }, "WebSocket"),
      h(
        "option",
        {
          value: "http",
          selected: draft.transport === "http",
          disabled: onlyWs,
        },
        "HTTP",
      ),
    );
    this.#timeout = h("input", {
      type: "number",
      id: "timeout",
      min: "1",
      step: "1",
      placeholder: "none",
      value: draft.timeout,
      oninput: () => {
        this.#draft.timeout = this.#timeout.value;
        this.#recheck();
      },
    });
    this.#raw.addEventListener("input", () => this.#rawEdited());
    const deprecated = method.deprecated ?? service.deprecated;
    this.element = h(
      "div",
      { class: "method-view" },
      h(
        "section",
        { class: "method-head" },
        h(
          "h2",
          { id: "method-title" },
          `${service.name}.${method.name}`,
          h("span", { class: `pattern p-${method.pattern}` }, PATTERN_WORDS[method.pattern]),
          service.version !== undefined && h("span", { class: "badge" }, `v${service.version}`),
        ),
        h("div", { class: "route" }, `POST ${basePath}${method.path}`),
        method.description && h("p", { class: "description" }, method.description),
        service.description && h("p", { class: "hint" }, `${service.name}: ${service.description}`),
        deprecated && h(
          "div",
          { class: "deprecation", id: "deprecation" },
          h("strong", {}, method.deprecated ? "Deprecated" : "Deprecated service"),
          deprecated === true ? "." : `: ${deprecated}`,
        ),
      ),
      h(
        "div",
        { class: "panes" },
        h(
          "section",
          { class: "pane request" },
          h(
            "div",
            { class: "settings" },
            h("label", {}, "Transport ", this.#transport),
            onlyWs && h(
              "span",
              { class: "hint" },
              "(browsers stream a request only over WebSocket)",
            ),
            h("label", {}, "Timeout (ms) ", this.#timeout),
          ),
          h("h3", {}, streamsIn(method) ? "Message (each one you send)" : "Request"),
          method.input
            ? [
              this.#form,
              h(
                "details",
                { class: "raw", open: true },
                h("summary", {}, "JSON"),
                this.#raw,
                this.#rawError,
              ),
            ]
            : h("p", { class: "hint" }, "This method takes no input."),
          h("h3", {}, "Metadata"),
          this.#metadata,
          this.#issues,
          this.#actions,
          this.#snippet,
          h(
            "section",
            { class: "history-box" },
            h("h3", {}, "History"),
            this.#history,
          ),
        ),
        this.#response,
      ),
    );
    this.#renderForm();
    this.#syncRaw();
    this.#renderMetadata();
    this.#renderActions();
    this.#renderHistory();
    replace(
      this.#response,
      idlePane(streamsIn(method) ? "Send a message to open the call" : "Not called yet"),
    );
  }

  #host = {
    defs: {} as Defs,
    changed: () => {
      this.#syncRaw();
      this.#recheck();
    },
    restructure: () => {
      this.#renderForm();
      this.#syncRaw();
      this.#recheck();
    },
  };

  #renderForm(): void {
    if (!this.method.input) return;
    this.#host.defs = this.#defs;
    replace(this.#form, renderForm(this.#draft.box, this.method.input as Schema, this.#host));
  }

  #syncRaw(): void {
    this.#raw.value = this.#draft.box.value === undefined
      ? ""
      : JSON.stringify(this.#draft.box.value, null, 2);
    this.#raw.rows = Math.min(14, Math.max(3, this.#raw.value.split("\n").length + 1));
    this.#rawError.textContent = "";
  }

  #rawEdited(): void {
    const text = this.#raw.value;
    try {
      this.#draft.box.value = text.trim() === "" ? undefined : JSON.parse(text);
      this.#rawError.textContent = "";
      this.#renderForm();
      this.#recheck();
    } catch (error) {
      this.#rawError.textContent = `Not valid JSON (the form keeps the last valid message): ${
        (error as Error).message
      }`;
    }
  }

  #renderMetadata(): void {
    const rows = this.#draft.metadata.map((pair, i) =>
      h(
        "div",
        { class: "meta-row" },
        h("input", {
          type: "text",
          name: "meta-name",
          placeholder: "header name",
          value: pair[0],
          spellcheck: false,
          oninput: (event: Event) => {
            pair[0] = (event.target as HTMLInputElement).value;
            this.#recheck();
          },
        }),
        h("input", {
          type: "text",
          name: "meta-value",
          placeholder: "value",
          value: pair[1],
          spellcheck: false,
          oninput: (event: Event) => (pair[1] = (event.target as HTMLInputElement).value),
        }),
        h("button", {
          type: "button",
          class: "remove",
          title: "Remove",
          onclick: () => {
            this.#draft.metadata.splice(i, 1);
            this.#renderMetadata();
          },
        }, "✕"),
      )
    );
    replace(
      this.#metadata,
      rows,
      h("button", {
        type: "button",
        class: "add",
        id: "add-metadata",
        onclick: () => {
          this.#draft.metadata.push(["", ""]);
          this.#renderMetadata();
          this.#metadata.querySelector<HTMLInputElement>(".meta-row:last-of-type input")?.focus();
        },
      }, "+ Add header"),
    );
  }

  /** The problems with what would be sent now. */
  #check(): Issue[] {
    const issues = this.method.input
      ? validate(this.#draft.box.value, this.method.input, this.#defs)
      : [];
    const timeout = this.#draft.timeout.trim();
    if (timeout !== "" && !(/^\d+$/.test(timeout) && Number(timeout) > 0)) {
      issues.push({ path: "timeout", message: "must be a whole number of milliseconds above 0" });
    }
    for (const [name] of this.#draft.metadata) {
      if (name !== "" && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) {
        issues.push({ path: "metadata", message: `${JSON.stringify(name)} is not a header name` });
      }
    }
    return issues;
  }

  #recheck(): void {
    if (this.#attempted) this.#showIssues(this.#check());
  }

  #showIssues(issues: Issue[]): void {
    for (const slot of this.#form.querySelectorAll<HTMLElement>(".error[data-error]")) {
      slot.textContent = "";
    }
    for (const field of this.#form.querySelectorAll(".invalid")) field.classList.remove("invalid");
    const summary: HTMLElement[] = [];
    for (const issue of issues) {
      const where = issue.path === "timeout" || issue.path === "metadata"
        ? issue.path
        : pathWords(issue.path);
      summary.push(h("li", {}, h("code", {}, where), ` ${issue.message}`));
      const slot = this.#form.querySelector<HTMLElement>(
        `.error[data-error="${CSS.escape(issue.path)}"]`,
      );
      if (slot) {
        slot.textContent = slot.textContent
          ? `${slot.textContent}; ${issue.message}`
          : issue.message;
        slot.parentElement?.classList.add("invalid");
      }
    }
    replace(
      this.#issues,
      issues.length > 0 && h(
        "div",
        { class: "issue-list", role: "alert" },
        h(
          "strong",
          {},
          `Not sent: ${issues.length} problem${issues.length === 1 ? "" : "s"} to fix`,
        ),
        h("ul", {}, summary),
      ),
    );
  }

  /** The message as it would be sent: plain JSON (fields left empty are left out). */
  #message(): unknown {
    const value = this.#draft.box.value;
    return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
  }

  #request() {
    const timeout = this.#draft.timeout.trim();
    return {
      connection: connection(this.#draft.transport),
      route: this.method.path.slice(1),
      pattern: this.method.pattern,
      hasInput: this.method.input !== undefined,
      hasOutput: this.method.output !== undefined,
      metadata: this.#draft.metadata.filter(([name]) => name !== "").map(
        ([name, value]) => [name, value] as [string, string],
      ),
      timeoutMs: timeout === "" ? undefined : Number(timeout),
    };
  }

  /** Leaving the method cancels its call, if one is running (an endless stream, say). */
  dispose(): void {
    if (this.#run && !this.#run.finished) this.#run.cancel();
  }

  /** Send (Ctrl/Cmd+Enter): call the method, or send one more message on an open stream. */
  async primary(): Promise<void> {
    this.#attempted = true;
    const issues = this.#check();
    this.#showIssues(issues);
    if (issues.length > 0) {
      this.#form.querySelector<HTMLElement>(".invalid input, .invalid select, .invalid textarea")
        ?.focus();
      return;
    }
    const message = this.#message();
    if (!streamsIn(this.method)) {
      if (this.#run && !this.#run.finished) return;
      const run = this.#start();
      await run.run(message);
      return;
    }
    const run = this.#run?.open ? this.#run : this.#start();
    run.openStream();
    this.#renderActions();
    await run.send(message);
  }

  #start(): CallRun {
    const request = this.#request();
    const run = new CallRun(request);
    this.#run = run;
    const started = Date.now();
    replace(this.#response, run.element);
    this.#renderActions();
    run.done.then((outcome) => {
      if (outcome === "unavailable") connections.get(this.#draft.transport)?.close();
      history.add(this.method.path, {
        at: started,
        transport: this.#draft.transport,
        timeoutMs: request.timeoutMs,
        metadata: request.metadata,
        messages: run.sent,
        outcome,
        durationMs: Date.now() - started,
      });
      if (current === this) {
        this.#renderActions();
        this.#renderHistory();
      }
    });
    return run;
  }

  #renderActions(): void {
    const run = this.#run;
    const running = run !== undefined && !run.finished;
    const button = (
      id: string,
      label: string,
      onclick: () => void,
      extra: Record<string, unknown> = {},
    ) => h("button", { type: "button", id, onclick, ...extra }, label);
    const buttons: HTMLElement[] = [];
    if (!streamsIn(this.method)) {
      if (running) {
        buttons.push(button(
          "stop",
          this.method.pattern === "server_streaming" ? "Stop" : "Cancel",
          () => run.cancel(),
          { class: "danger" },
        ));
      } else {
        buttons.push(
          button("send", "Send", () => this.primary(), { class: "primary", title: "Ctrl/⌘+Enter" }),
        );
      }
    } else {
      const open = run?.open === true;
      buttons.push(
        button("send", open ? "Send message" : "Open call and send", () => this.primary(), {
          class: "primary",
          title: "Ctrl/⌘+Enter",
        }),
      );
      if (open) {
        buttons.push(
          button(
            "end",
            this.method.pattern === "client_streaming" ? "End and get response" : "End sending",
            async () => {
              await run.end();
              this.#renderActions();
            },
          ),
        );
        buttons.push(button("cancel", "Cancel", () => run.cancel(), { class: "danger" }));
      }
    }
    buttons.push(
      button("copy-curl", "Copy as curl", () => this.#copy("curl")),
      button("copy-ts", "Copy as TypeScript", () => this.#copy("ts")),
    );
    replace(this.#actions, buttons, h("span", { class: "hint keys" }, "Ctrl/⌘+Enter sends"));
  }

  #snippetCall(): SnippetCall {
    const request = this.#request();
    const sent = this.#run && streamsIn(this.method) && this.#run.sent.length > 0
      ? this.#run.sent
      : [this.#message()];
    return {
      baseUrl,
      service: this.service,
      method: this.method,
      messages: sent,
      metadata: request.metadata,
      timeoutMs: request.timeoutMs,
      transport: this.#draft.transport,
    };
  }

  async #copy(kind: "curl" | "ts"): Promise<void> {
    const call = this.#snippetCall();
    const text = kind === "curl" ? curlCommand(call) : typescriptSnippet(call);
    const pre = h("pre", { class: "code", id: "snippet", "data-kind": kind }, text);
    const note = h("div", { class: "hint", id: "copy-note" }, "Copying…");
    replace(
      this.#snippet,
      h("div", { class: "snippet-head" }, kind === "curl" ? "curl" : "TypeScript", note),
      pre,
    );
    try {
      await navigator.clipboard.writeText(text);
      note.textContent = "Copied to the clipboard";
    } catch {
      // No clipboard (a page served over plain HTTP to another host): select the text instead.
      const range = document.createRange();
      range.selectNodeContents(pre);
      getSelection()?.removeAllRanges();
      getSelection()?.addRange(range);
      const copied = document.execCommand("copy");
      note.textContent = copied ? "Copied to the clipboard" : "Select the text and copy it";
    }
  }

  #renderHistory(): void {
    const entries = history.list(this.method.path);
    replace(
      this.#history,
      entries.length === 0 && h("li", { class: "hint" }, "No calls yet."),
      entries.map((entry, i) =>
        h(
          "li",
          { class: "entry" },
          h("span", { class: "when" }, new Date(entry.at).toLocaleTimeString()),
          h(
            "span",
            { class: `outcome ${entry.outcome === "ok" ? "ok" : "bad"}` },
            entry.outcome,
          ),
          h(
            "span",
            { class: "hint" },
            `${entry.durationMs} ms · ${entry.transport === "ws" ? "WebSocket" : "HTTP"}`,
          ),
          h(
            "code",
            { class: "preview" },
            entry.messages.length === 0
              ? "(no input)"
              : entry.messages.map((m) => JSON.stringify(m)).join(" "),
          ),
          h("button", {
            type: "button",
            class: "link",
            "data-history": String(i),
            onclick: () => this.#load(entry),
          }, "Load"),
          h("button", {
            type: "button",
            class: "link rerun",
            "data-history": String(i),
            onclick: () => this.#rerun(entry),
          }, "Re-run"),
        )
      ),
    );
  }

  #load(entry: HistoryEntry): void {
    const last = entry.messages[entry.messages.length - 1];
    if (this.method.input) {
      this.#draft.box.value = last === undefined
        ? initialValue(this.method.input, this.#defs)
        : structuredClone(last);
    }
    this.#draft.metadata = entry.metadata.map(([k, v]) => [k, v]);
    this.#draft.timeout = entry.timeoutMs === undefined ? "" : String(entry.timeoutMs);
    this.#draft.transport = entry.transport;
    this.#transport.value = entry.transport;
    this.#timeout.value = this.#draft.timeout;
    this.#renderForm();
    this.#syncRaw();
    this.#renderMetadata();
    this.#recheck();
  }

  async #rerun(entry: HistoryEntry): Promise<void> {
    if (this.#run && !this.#run.finished) this.#run.cancel();
    this.#load(entry);
    if (!streamsIn(this.method)) return this.primary();
    const run = this.#start();
    run.openStream();
    for (const message of entry.messages) await run.send(message);
    await run.end();
    this.#renderActions();
  }
}
