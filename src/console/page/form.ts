/// <reference lib="dom" />
/**
 * The request form, generated from a message's JSON Schema. The form edits one JSON value in
 * place: a leaf (a text box, a number, a checkbox) writes its part of the value and calls
 * `changed()`; a change of shape (an item added or removed, a union variant picked, an optional
 * field included) writes the value and calls `restructure()`, which renders the form afresh from
 * the value. The raw JSON editor works the same way, so the two can never disagree.
 */
import { type Child, h } from "./dom.ts";
import {
  constraintWords,
  type Defs,
  initialValue,
  type Kind,
  kindOf,
  resolve,
  type Schema,
  typeLabel,
} from "./schema.ts";
import { child, pathWords, Unparsed } from "./validate.ts";

/** What the form tells its owner. */
export interface FormHost {
  /** The document's definitions. */
  readonly defs: Defs;
  /** A leaf changed the value. */
  changed(): void;
  /** The value changed shape: render the form again. */
  restructure(): void;
}

/** A place in the value: the root box, a property, an item. */
interface Slot {
  get(): unknown;
  set(value: unknown): void;
}

/**
 * Renders the form of a value.
 *
 * @param box Holds the value; the form writes `box.value`.
 * @param schema The message's schema.
 * @param host Where changes go.
 * @returns The form's element.
 */
export function renderForm(box: { value: unknown }, schema: Schema, host: FormHost): HTMLElement {
  const slot: Slot = { get: () => box.value, set: (v) => (box.value = v) };
  return h(
    "div",
    { class: "form", "data-path": "" },
    control(schema, slot, "", host, 0),
    h("div", { class: "error", "data-error": "" }),
  );
}

function fits(kind: Kind, value: unknown): boolean {
  const isObject = typeof value === "object" && value !== null && !Array.isArray(value);
  switch (kind.kind) {
    case "object":
    case "record":
    case "tagged":
      return isObject;
    case "array":
    case "tuple":
      return Array.isArray(value);
    default:
      return true;
  }
}

let ids = 0;

function control(raw: unknown, slot: Slot, path: string, host: FormHost, depth: number): Child {
  const schema = resolve(raw, host.defs);
  const kind = kindOf(schema, host.defs);
  const name = pathWords(path);
  const value = slot.get();
  if (value !== undefined && !fits(kind, value)) {
    return h(
      "div",
      { class: "mismatch" },
      `${JSON.stringify(value)} is not ${typeLabel(schema, host.defs)}. `,
      h("button", {
        type: "button",
        class: "link",
        onclick: () => {
          slot.set(initialValue(schema, host.defs));
          host.restructure();
        },
      }, "Reset"),
    );
  }
  switch (kind.kind) {
    case "object":
      return objectControl(kind, schema, slot, path, host, depth);
    case "record":
      return recordControl(kind, slot, path, host, depth);
    case "array":
      return arrayControl(kind.items, schema, slot, path, host, depth);
    case "tuple":
      return h(
        "div",
        { class: "tuple" },
        kind.items.map((item, i) =>
          row(`[${i}]`, item, itemSlot(slot, i), child(path, i), host, depth, { required: true })
        ),
      );
    case "enum":
      return enumControl(kind.values, slot, name, host);
    case "const":
      if (value === undefined) slot.set(kind.value);
      return h("code", { class: "const" }, JSON.stringify(kind.value));
    case "nullable":
      return nullableControl(kind.inner, slot, path, host, depth);
    case "tagged":
      return taggedControl(kind, slot, path, host, depth);
    case "union":
      return unionControl(kind.options, slot, path, host, depth);
    case "string":
      return stringControl(schema, slot, name, host);
    case "number":
    case "integer":
      return numberControl(schema, kind.kind, slot, name, host);
    case "boolean":
      return h("input", {
        type: "checkbox",
        name,
        checked: value === true,
        onchange: (event: Event) => {
          slot.set((event.target as HTMLInputElement).checked);
          host.changed();
        },
      });
    case "null":
      if (value === undefined) slot.set(null);
      return h("code", { class: "const" }, "null");
    case "never":
      return h("span", { class: "hint" }, "(no value is allowed)");
    default:
      return jsonControl(slot, name, host);
  }
}

function propertySlot(slot: Slot, key: string): Slot {
  return {
    get: () => (slot.get() as Record<string, unknown>)[key],
    set: (v) => ((slot.get() as Record<string, unknown>)[key] = v),
  };
}

function itemSlot(slot: Slot, index: number): Slot {
  return {
    get: () => (slot.get() as unknown[])[index],
    set: (v) => ((slot.get() as unknown[])[index] = v),
  };
}

/** One labelled field: name, type, constraints, description, control, error. */
function row(
  label: string,
  raw: unknown,
  slot: Slot,
  path: string,
  host: FormHost,
  depth: number,
  options: { required: boolean; include?: { on: boolean; toggle: (on: boolean) => void } },
): HTMLElement {
  const schema = resolve(raw, host.defs);
  const id = `f${++ids}`;
  const constraints = constraintWords(schema, host.defs);
  const include = options.include;
  return h(
    "div",
    { class: "field", "data-path": path },
    h(
      "div",
      { class: "label" },
      include && h("input", {
        type: "checkbox",
        class: "include",
        name: `include:${pathWords(path)}`,
        title: include.on ? "Leave this optional field out" : "Send this optional field",
        checked: include.on,
        onchange: (event: Event) => include.toggle((event.target as HTMLInputElement).checked),
      }),
      h("label", { for: id, class: "name" }, label),
      options.required ? h("span", { class: "required", title: "required" }, "*") : null,
      h("span", { class: "type" }, typeLabel(raw, host.defs)),
      constraints.length > 0 && h("span", { class: "constraints" }, constraints.join(", ")),
      "default" in schema &&
        h("span", { class: "constraints" }, `default ${JSON.stringify(schema.default)}`),
      schema.deprecated === true && h("span", { class: "badge deprecated" }, "deprecated"),
    ),
    typeof schema.description === "string" && h("div", { class: "hint" }, schema.description),
    (!include || include.on) && h(
      "div",
      { class: "control", id: `${id}-box` },
      withId(
        control(schema, slot, path, host, depth + 1),
        id,
      ),
    ),
    h("div", { class: "error", "data-error": path }),
  );
}

/** Gives a control's input the id its label points to. */
function withId(node: Child, id: string): Child {
  if (node instanceof HTMLElement) {
    const target = node.matches("input, select, textarea")
      ? node
      : node.querySelector(":scope > input, :scope > select, :scope > textarea");
    if (target) target.id = id;
  }
  return node;
}

function objectControl(
  kind: Extract<Kind, { kind: "object" }>,
  schema: Schema,
  slot: Slot,
  path: string,
  host: FormHost,
  depth: number,
  skip?: string,
): HTMLElement {
  if (slot.get() === undefined) slot.set({});
  const value = slot.get() as Record<string, unknown>;
  const entries = Object.entries(kind.properties).filter(([key]) => key !== skip);
  if (entries.length === 0 && schema.additionalProperties !== false) {
    return jsonControl(slot, pathWords(path), host);
  }
  return h(
    "div",
    { class: depth === 0 ? "object root" : "object" },
    entries.map(([key, property]) => {
      const required = kind.required.includes(key);
      const propertyPath = child(path, key);
      return row(key, property, propertySlot(slot, key), propertyPath, host, depth, {
        required,
        include: required ? undefined : {
          on: key in value,
          toggle: (on) => {
            if (on) value[key] = initialValue(property, host.defs);
            else delete value[key];
            host.restructure();
          },
        },
      });
    }),
  );
}

function recordControl(
  kind: Extract<Kind, { kind: "record" }>,
  slot: Slot,
  path: string,
  host: FormHost,
  depth: number,
): HTMLElement {
  const value = slot.get() as Record<string, unknown>;
  const keyEnum = kind.keys && resolve(kind.keys, host.defs).enum as string[] | undefined;
  const unused = () => {
    if (keyEnum) return keyEnum.find((k) => !(k in value));
    for (let i = 1;; i++) if (!(`key${i}` in value)) return `key${i}`;
  };
  const rename = (from: string, to: string) => {
    if (from === to || to === "" || to in value) return false;
    const copy = Object.entries(value);
    for (const key of Object.keys(value)) delete value[key];
    for (const [key, item] of copy) value[key === from ? to : key] = item;
    return true;
  };
  return h(
    "div",
    { class: "record" },
    Object.keys(value).map((key) => {
      let current = key;
      const keyControl = keyEnum
        ? h(
          "select",
          {
            class: "key",
            name: `key:${pathWords(child(path, key))}`,
            onchange: (event: Event) => {
              if (rename(current, (event.target as HTMLSelectElement).value)) host.restructure();
            },
          },
          keyEnum.map((k) => h("option", { value: k, selected: k === key }, k)),
        )
        : h("input", {
          type: "text",
          class: "key",
          name: `key:${pathWords(child(path, key))}`,
          value: key,
          onchange: (event: Event) => {
            const input = event.target as HTMLInputElement;
            if (rename(current, input.value)) {
              current = input.value;
              host.restructure();
            } else input.value = current;
          },
        });
      return h(
        "div",
        { class: "entry", "data-path": child(path, key) },
        keyControl,
        h("span", { class: "arrow" }, "→"),
        h(
          "div",
          { class: "control" },
          control(kind.values, propertySlot(slot, key), child(path, key), host, depth + 1),
        ),
        removeButton(() => {
          delete value[current];
          host.restructure();
        }),
        h("div", { class: "error", "data-error": child(path, key) }),
      );
    }),
    h("button", {
      type: "button",
      class: "add",
      name: `add:${pathWords(path)}`,
      disabled: unused() === undefined,
      onclick: () => {
        const key = unused();
        if (key === undefined) return;
        value[key] = initialValue(kind.values, host.defs);
        host.restructure();
      },
    }, "+ Add entry"),
  );
}

function removeButton(onclick: () => void): HTMLElement {
  return h("button", { type: "button", class: "remove", title: "Remove", onclick }, "✕");
}

function arrayControl(
  items: Schema,
  schema: Schema,
  slot: Slot,
  path: string,
  host: FormHost,
  depth: number,
): HTMLElement {
  if (slot.get() === undefined) slot.set([]);
  const value = slot.get() as unknown[];
  const max = typeof schema.maxItems === "number" ? schema.maxItems : Infinity;
  return h(
    "div",
    { class: "array" },
    value.map((_, i) =>
      h(
        "div",
        { class: "item", "data-path": child(path, i) },
        h("span", { class: "index" }, String(i)),
        h(
          "div",
          { class: "control" },
          control(items, itemSlot(slot, i), child(path, i), host, depth + 1),
        ),
        removeButton(() => {
          value.splice(i, 1);
          host.restructure();
        }),
        h("div", { class: "error", "data-error": child(path, i) }),
      )
    ),
    h("button", {
      type: "button",
      class: "add",
      name: `add:${pathWords(path)}`,
      disabled: value.length >= max,
      onclick: () => {
        value.push(initialValue(items, host.defs));
        host.restructure();
      },
    }, "+ Add item"),
  );
}

function enumControl(
  values: readonly unknown[],
  slot: Slot,
  name: string,
  host: FormHost,
): HTMLElement {
  const current = slot.get();
  const index = values.findIndex((v) => JSON.stringify(v) === JSON.stringify(current));
  return h(
    "select",
    {
      name,
      onchange: (event: Event) => {
        const i = Number((event.target as HTMLSelectElement).value);
        slot.set(i === -1 ? undefined : values[i]);
        host.changed();
      },
    },
    index === -1 &&
      h(
        "option",
        { value: "-1", selected: true },
        current === undefined ? "(choose)" : `${JSON.stringify(current)} (not allowed)`,
      ),
    values.map((v, i) =>
      h(
        "option",
        { value: String(i), selected: i === index },
        typeof v === "string" ? v : JSON.stringify(v),
      )
    ),
  );
}

function nullableControl(
  inner: Schema,
  slot: Slot,
  path: string,
  host: FormHost,
  depth: number,
): HTMLElement {
  const isNull = slot.get() === null;
  return h(
    "div",
    { class: "nullable" },
    h(
      "label",
      { class: "null-toggle" },
      h("input", {
        type: "checkbox",
        name: `null:${pathWords(path)}`,
        checked: isNull,
        onchange: (event: Event) => {
          slot.set(
            (event.target as HTMLInputElement).checked ? null : initialValue(inner, host.defs),
          );
          host.restructure();
        },
      }),
      "null",
    ),
    !isNull && control(inner, slot, path, host, depth),
  );
}

function taggedControl(
  kind: Extract<Kind, { kind: "tagged" }>,
  slot: Slot,
  path: string,
  host: FormHost,
  depth: number,
): HTMLElement {
  const value = slot.get() as Record<string, unknown>;
  let index = kind.tags.indexOf(value[kind.key] as string);
  if (index === -1) {
    index = 0;
    slot.set({
      ...(initialValue(kind.options[0], host.defs) as object),
      ...value,
      [kind.key]: kind.tags[0],
    });
  }
  const option = resolve(kind.options[index], host.defs);
  const optionKind = kindOf(option, host.defs) as Extract<Kind, { kind: "object" }>;
  return h(
    "div",
    { class: "variant" },
    h(
      "div",
      { class: "variant-switch" },
      h("span", { class: "name" }, kind.key),
      h(
        "select",
        {
          name: `variant:${pathWords(path)}`,
          onchange: (event: Event) => {
            const i = Number((event.target as HTMLSelectElement).value);
            const fresh = initialValue(kind.options[i], host.defs) as Record<string, unknown>;
            // Keep the fields the variants share, so switching back and forth loses little.
            const old = slot.get() as Record<string, unknown>;
            const properties = (resolve(kind.options[i], host.defs).properties ?? {}) as object;
            for (const key of Object.keys(properties)) {
              if (key !== kind.key && key in old) fresh[key] = old[key];
            }
            fresh[kind.key] = kind.tags[i];
            slot.set(fresh);
            host.restructure();
          },
        },
        kind.tags.map((tag, i) => h("option", { value: String(i), selected: i === index }, tag)),
      ),
    ),
    typeof option.description === "string" && h("div", { class: "hint" }, option.description),
    objectControl(optionKind, option, slot, path, host, depth + 1, kind.key),
  );
}

function unionControl(
  options: readonly Schema[],
  slot: Slot,
  path: string,
  host: FormHost,
  depth: number,
): HTMLElement {
  const value = slot.get();
  const kinds = options.map((o) => kindOf(o, host.defs));
  const typeMatch = (o: Schema) => {
    const t = resolve(o, host.defs).type;
    if (value === undefined || typeof t !== "string") return false;
    if (t === "integer" || t === "number") return typeof value === "number";
    if (t === "array") return Array.isArray(value);
    if (t === "object") return typeof value === "object" && value !== null && !Array.isArray(value);
    if (t === "null") return value === null;
    const actual: string = typeof value;
    return actual === t;
  };
  let index = options.findIndex(typeMatch);
  if (index === -1) index = kinds.findIndex((k) => fits(k, value) && value !== undefined);
  if (index === -1) index = 0;
  return h(
    "div",
    { class: "variant" },
    h(
      "div",
      { class: "variant-switch" },
      h("span", { class: "name" }, "variant"),
      h(
        "select",
        {
          name: `variant:${pathWords(path)}`,
          onchange: (event: Event) => {
            slot.set(
              initialValue(options[Number((event.target as HTMLSelectElement).value)], host.defs),
            );
            host.restructure();
          },
        },
        options.map((o, i) =>
          h("option", { value: String(i), selected: i === index }, typeLabel(o, host.defs))
        ),
      ),
    ),
    control(options[index], slot, path, host, depth + 1),
  );
}

function stringControl(schema: Schema, slot: Slot, name: string, host: FormHost): HTMLElement {
  const value = slot.get();
  const long = typeof schema.maxLength === "number" && schema.maxLength > 200;
  const placeholder = typeof schema.format === "string"
    ? FORMAT_HINTS[schema.format] ?? schema.format
    : typeof schema.pattern === "string"
    ? `/${schema.pattern}/`
    : "";
  const oninput = (event: Event) => {
    slot.set((event.target as HTMLInputElement | HTMLTextAreaElement).value);
    host.changed();
  };
  const text = typeof value === "string" ? value : "";
  if (value === undefined) slot.set("");
  return long
    ? h("textarea", { name, rows: 2, value: text, placeholder, oninput })
    : h("input", { type: "text", name, value: text, placeholder, spellcheck: false, oninput });
}

const FORMAT_HINTS: Record<string, string> = {
  email: "name@example.com",
  uri: "https://example.com/",
  uuid: "00000000-0000-4000-8000-000000000000",
  "date-time": "2026-01-31T12:00:00Z",
  date: "2026-01-31",
  time: "12:00:00",
  ipv4: "192.0.2.1",
  ipv6: "2001:db8::1",
};

function numberControl(
  schema: Schema,
  type: "number" | "integer",
  slot: Slot,
  name: string,
  host: FormHost,
): HTMLElement {
  const value = slot.get();
  const words = constraintWords(schema, host.defs).filter((w) => !w.startsWith("multiple"));
  return h("input", {
    type: "number",
    name,
    step: type === "integer" ? "1" : "any",
    inputMode: type === "integer" ? "numeric" : "decimal",
    value: typeof value === "number" ? String(value) : "",
    placeholder: [type, ...words].join(", "),
    oninput: (event: Event) => {
      const input = event.target as HTMLInputElement;
      if (input.validity.badInput) slot.set(new Unparsed(input.value, "must be a number"));
      else slot.set(input.value === "" ? undefined : Number(input.value));
      host.changed();
    },
  });
}

function jsonControl(slot: Slot, name: string, host: FormHost): HTMLElement {
  const value = slot.get();
  return h("textarea", {
    class: "json",
    name,
    rows: 2,
    spellcheck: false,
    placeholder: "any JSON value",
    value: value === undefined ? "" : JSON.stringify(value, null, 2),
    oninput: (event: Event) => {
      const text = (event.target as HTMLTextAreaElement).value;
      if (text.trim() === "") slot.set(undefined);
      else {
        try {
          slot.set(JSON.parse(text));
        } catch {
          slot.set(new Unparsed(text, "not valid JSON"));
        }
      }
      host.changed();
    },
  });
}
