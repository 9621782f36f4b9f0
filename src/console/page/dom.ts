/// <reference lib="dom" />
/** A few DOM helpers for the console page: elements are built in code, never from HTML strings. */

/** What {@linkcode h} accepts as children. */
export type Child = Node | string | number | false | null | undefined | readonly Child[];

/** Attributes and properties of {@linkcode h}: `class`, `data-*`, `on<event>` handlers, others. */
export type Attrs = Record<string, unknown>;

/**
 * Makes an element. Keys starting with `on` add event listeners (`onclick`); `class`, `for`,
 * `data-*`, `aria-*`, `role` and `title` are set as attributes; anything else as a property
 * (`value`, `checked`, `disabled`, `type`). `false`, `null` and `undefined` are skipped.
 *
 * @param tag The tag name.
 * @param attrs Attributes, properties and listeners.
 * @param children Text or nodes.
 * @returns The element.
 */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      element.addEventListener(key.slice(2), value as EventListener);
    } else if (
      key === "class" || key === "for" || key === "role" || key === "title" ||
      key.startsWith("data-") || key.startsWith("aria-")
    ) {
      element.setAttribute(key, value === true ? "" : String(value));
    } else {
      (element as unknown as Record<string, unknown>)[key] = value;
    }
  }
  append(element, children);
  return element;
}

/**
 * Appends children to a node.
 *
 * @param parent The node.
 * @param children Text or nodes; falsy ones are skipped.
 */
export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === false || child === null || child === undefined) continue;
    if (Array.isArray(child)) append(parent, child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
}

/**
 * Replaces a node's children.
 *
 * @param parent The node.
 * @param children The new children.
 */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, children);
}

/**
 * JSON for display: two-space indented, or `undefined` spelled out.
 *
 * @param value Any JSON value.
 * @returns The text.
 */
export function pretty(value: unknown): string {
  return value === undefined ? "(nothing)" : JSON.stringify(value, null, 2);
}
