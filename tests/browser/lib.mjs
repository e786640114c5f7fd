// Shared helpers for the browser scenarios. Each scenario is a script run by
// crates/server/tests/browser.rs against a real otp-server, with:
//   BASE_URL        the server, e.g. http://127.0.0.1:41234
//   MAIL_DIR        the server's mail folder (one .eml file per message)
//   SCREENSHOT_DIR  where screenshots go (optional)
//   CHROMIUM_PATH   the browser (default /usr/bin/chromium)
import { readdir, readFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { chromium } from "playwright-core";

export const BASE_URL = required("BASE_URL");
export const MAIL_DIR = required("MAIL_DIR");
export const SCREENSHOT_DIR = process.env.SCREENSHOT_DIR || "";

function required(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} must be set`);
  return value;
}

/** Fails the scenario with a message when `condition` is false. */
export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

export function uniqueEmail(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}@example.com`;
}

/** Headless Chromium from the system, with the flags that work in a container. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}

/**
 * A page that records what must never happen: script errors, Content-Security-Policy
 * violations, and requests to any other origin than the server's (and `allowOrigins`,
 * such as a sign-in provider's).
 */
export async function openPage(browser, options = {}, { allowOrigins = [] } = {}) {
  const context = await browser.newContext({ locale: "en-GB", ...options });
  const page = await context.newPage();
  const problems = [];
  const origin = new URL(BASE_URL).origin;
  page.on("pageerror", (error) => problems.push(`script error: ${error.message}`));
  page.on("console", (message) => {
    const text = message.text();
    if (/Content Security Policy|Refused to (load|execute|apply|connect)/i.test(text)) {
      problems.push(`CSP violation: ${text}`);
    } else if (message.type() === "error" && !text.startsWith("Failed to load resource")) {
      // 4xx answers from the API are expected in some scenarios and logged by the
      // browser as "Failed to load resource"; anything else is a problem.
      problems.push(`console error: ${text}`);
    }
  });
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.origin !== origin && !allowOrigins.includes(url.origin) && url.protocol !== "data:") problems.push(`request to another origin: ${url.href}`);
  });
  page.problems = problems;
  page.assertClean = () => check(problems.length === 0, `the page had problems:\n  ${problems.join("\n  ")}`);
  return { context, page };
}

/**
 * The mail folder, read as a person would: the newest message for an address that
 * arrived after `since()` was taken. Mail is written a few milliseconds after the
 * request that sends it, so reading polls until it arrives.
 */
export class Mailbox {
  constructor(dir = MAIL_DIR) {
    this.dir = dir;
    this.seen = new Set();
  }

  async files() {
    try {
      return (await readdir(this.dir)).filter((name) => name.endsWith(".eml")).sort();
    } catch {
      return [];
    }
  }

  /** Marks every message already there as read. */
  async skipExisting() {
    for (const name of await this.files()) this.seen.add(name);
  }

  /** The next unread message to `email`, quoted-printable decoded, waiting up to `timeout` ms. */
  async nextMessage(email, { timeout = 10000 } = {}) {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      for (const name of await this.files()) {
        if (this.seen.has(name)) continue;
        const text = await readFile(path.join(this.dir, name), "utf8");
        const to = /^To: *(.*)$/im.exec(text);
        if (!to || !to[1].toLowerCase().includes(email.toLowerCase())) continue;
        this.seen.add(name);
        return decodeQuotedPrintable(text);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no mail for ${email} within ${timeout} ms in ${this.dir}`);
  }

  /** The code of the next unread message to `email`, waiting up to `timeout` ms. */
  async nextCode(email, { timeout = 10000 } = {}) {
    const deadline = Date.now() + timeout;
    while (Date.now() < deadline) {
      for (const name of await this.files()) {
        if (this.seen.has(name)) continue;
        const text = await readFile(path.join(this.dir, name), "utf8");
        const to = /^To: *(.*)$/im.exec(text);
        if (!to || !to[1].toLowerCase().includes(email.toLowerCase())) continue;
        this.seen.add(name);
        const code = /^\s+(\d{6,10})\s*$/m.exec(text);
        check(code, `no code in ${name}`);
        return code[1];
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no mail for ${email} within ${timeout} ms in ${this.dir}`);
  }
}

/** Undoes quoted-printable (soft line breaks and =XX), as a mail client would. */
export function decodeQuotedPrintable(text) {
  return text.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex) => String.fromCharCode(Number.parseInt(hex, 16)));
}

/** Types a code into the focused first box, one key at a time, as a person would. */
export async function typeCode(page, code, boxes = "#code-boxes input") {
  await page.locator(boxes).first().focus();
  await page.keyboard.type(code, { delay: 30 });
}

/** Pastes `text` into a box the way a browser does: a paste event with clipboard data. */
export async function pasteInto(page, selector, text) {
  await page.locator(selector).focus();
  await page.locator(selector).evaluate((input, value) => {
    const data = new DataTransfer();
    data.setData("text/plain", value);
    input.dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }));
  }, text);
}

/** Waits until the named view is the one shown. */
export async function waitForView(page, name, timeout = 10000) {
  await page.locator(`#view-${name}`).waitFor({ state: "visible", timeout });
}

/** The text of the error region (role=alert), or "" when it is hidden. */
export async function errorText(page) {
  const error = page.locator("#error");
  return (await error.isVisible()) ? (await error.textContent()).trim() : "";
}

/** Signs in with an emailed code through the page; returns the address. */
export async function signInWithCode(page, mailbox, email) {
  await page.goto(`${BASE_URL}/`);
  await waitForView(page, "email");
  await page.locator("#email-address").fill(email);
  await page.getByRole("button", { name: "Email me a code" }).click();
  await waitForView(page, "code");
  const code = await mailbox.nextCode(email);
  await typeCode(page, code);
  await waitForView(page, "account");
  return email;
}

export async function screenshot(page, name, { fullPage = true } = {}) {
  if (!SCREENSHOT_DIR) return;
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, `${name}.png`), fullPage });
}

/** Runs a scenario: a browser for `body`, closed afterwards; any failure exits 1. */
export async function scenario(name, body) {
  const browser = await launch();
  try {
    await body(browser);
    console.log(`${name}: passed`);
  } catch (error) {
    console.error(`${name}: FAILED\n${error.stack || error}`);
    process.exitCode = 1;
  } finally {
    await browser.close();
  }
}
