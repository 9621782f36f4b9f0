/// <reference lib="dom" />
/**
 * Drives the dev console in headless Chromium (Debian's, found on PATH as `deno task test`
 * checks) through puppeteer-core, the same way under Deno and Bun: a server in this runtime, a
 * browser per test, and helpers that act as a user does (click, type, read what is shown).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { afterAll } from "../_harness.ts";
import type { Server } from "../../mod.ts";

/** The flags PLATFORM.md lists (puppeteer adds --headless and its own). */
const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/**
 * Where screenshots go: a temp dir (removed when the file's tests are done), and also
 * $MICROAPI_CONSOLE_SCREENSHOTS when set (`docs/console` makes the ones the docs show).
 */
const screenshots = await mkdtemp(join(tmpdir(), "microapi-console-shots-"));
const publish = process.env.MICROAPI_CONSOLE_SCREENSHOTS;
afterAll(() => rm(screenshots, { recursive: true, force: true }));

/** A browser on a console page. */
export interface Session {
  readonly browser: Browser;
  readonly page: Page;
  /** Problems the page reported: uncaught errors, console errors (CSP violations among them). */
  readonly problems: string[];
  /** Takes a screenshot named `<name>.png`. */
  shot(name: string): Promise<string>;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/** Chromium on PATH, as `deno task test` checks (tests/browser/chromium_test.ts does the same). */
function chromiumPath(): string {
  for (const dir of (process.env.PATH ?? "").split(":")) {
    const path = join(dir, "chromium");
    if (dir !== "" && existsSync(path)) return path;
  }
  throw new Error("chromium is not on PATH (deno task test installs it: apt-get install chromium)");
}

/**
 * Opens the console of a server in a fresh browser.
 *
 * @param server The server.
 * @param options The hash to open, the window size, dark mode.
 * @returns The session.
 */
export async function openConsole(
  server: Server,
  options: { hash?: string; width?: number; height?: number; dark?: boolean; path?: string } = {},
): Promise<Session> {
  const profile = await mkdtemp(join(tmpdir(), "microapi-console-chromium-"));
  const browser = await puppeteer.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_FLAGS,
    userDataDir: profile,
    // No signal handlers of its own in the test process.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  const problems: string[] = [];
  let page: Page;
  try {
    const origin = server.url;
    await browser.defaultBrowserContext().overridePermissions(origin, [
      "clipboard-read",
      "clipboard-write",
      "clipboard-sanitized-write",
    ]);
    page = await browser.newPage();
    page.on("pageerror", (error) => problems.push(`page error: ${error}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console error: ${message.text()}`);
    });
    await page.setViewport({ width: options.width ?? 1280, height: options.height ?? 800 });
    if (options.dark) {
      await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
    }
    await page.goto(`${origin}${options.path ?? "/_microapi/console"}${options.hash ?? ""}`);
    await page.waitForSelector("#services a.method");
  } catch (error) {
    await browser.close();
    await removeProfile(profile);
    throw error;
  }
  return {
    browser,
    page,
    problems,
    async shot(name) {
      const path = join(screenshots, `${name}.png`);
      await page.screenshot({ path });
      if (publish) {
        await mkdir(publish, { recursive: true });
        await page.screenshot({ path: join(publish, `${name}.png`) });
      }
      return path;
    },
    async close() {
      await browser.close();
      await removeProfile(profile);
    },
  };
}

/** Chromium's helper processes may write to the profile for a moment after it closes. */
async function removeProfile(path: string): Promise<void> {
  for (let attempt = 1;; attempt++) {
    try {
      return await rm(path, { recursive: true, force: true });
    } catch (error) {
      if (attempt === 20) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Opens a method from the list on the left, as a user clicks it.
 *
 * @param page The page.
 * @param path The method's path: `/users/get_user`.
 */
export async function pick(page: Page, path: string): Promise<void> {
  await page.click(`#services a.method[data-path="${path}"]`);
  await page.waitForFunction(
    (p) => document.querySelector("a.method.selected")?.getAttribute("data-path") === p,
    {},
    path,
  );
}

/**
 * Replaces what a field holds by typing, as a user does: click, select all, type.
 *
 * @param page The page.
 * @param selector The field.
 * @param text What to type (empty clears it).
 */
export async function fill(page: Page, selector: string, text: string): Promise<void> {
  await page.click(selector);
  await page.keyboard.down("Control");
  await page.keyboard.press("a");
  await page.keyboard.up("Control");
  await page.keyboard.press("Backspace");
  if (text !== "") await page.type(selector, text);
}

/**
 * The text an element shows.
 *
 * @param page The page.
 * @param selector The element.
 * @returns Its text.
 */
export async function text(page: Page, selector: string): Promise<string> {
  return await page.$eval(selector, (element) => (element as HTMLElement).innerText);
}

/**
 * Waits for the call's status to settle and returns it.
 *
 * @param page The page.
 * @param state The state to wait for (`ok`, `error`, `cancelled`).
 * @returns The status text, such as `OK · 12 ms`.
 */
export async function settled(page: Page, state: string): Promise<string> {
  await page.waitForSelector(`#status[data-state="${state}"]`, { timeout: 10_000 });
  return await text(page, "#status");
}

/**
 * The JSON a `<pre>` shows.
 *
 * @param page The page.
 * @param selector The element.
 * @returns It parsed.
 */
export async function shownJson(page: Page, selector: string): Promise<unknown> {
  return JSON.parse(await text(page, selector));
}

/**
 * Checks that the page reported no errors (a CSP violation is a console error).
 *
 * @param session The session.
 */
export function assertNoProblems(session: Session): void {
  assert.deepEqual(session.problems, [], "the page reported problems");
}
