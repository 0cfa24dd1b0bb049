// Shared by the end-to-end tests: a real Chromium (Debian's package, driven by playwright-core)
// against a running platform described by `funnel dev`'s dev.json.
//
// Environment: FUNNEL_E2E_DEV_JSON (path to dev.json, required), FUNNEL_E2E_SCREENSHOTS
// (directory for screenshots; default ../test-artifacts/screenshots), CHROMIUM (default
// /usr/bin/chromium).
import { createHmac, randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = path.dirname(fileURLToPath(import.meta.url));
const devJson = process.env.FUNNEL_E2E_DEV_JSON;
if (!devJson) throw new Error("FUNNEL_E2E_DEV_JSON must point at a running `funnel dev`'s dev.json");
export const dev = JSON.parse(fs.readFileSync(devJson, "utf8"));
export const BASE = dev.processes.api.url.replace(/\/$/, "");
export const SANDBOX = dev.processes.sandbox.url.replace(/\/$/, "");
const RECEIVER = (dev.processes.receiver.webhook_url ?? `${dev.processes.receiver.url.replace(/\/$/, "")}/webhook`);
export const DEMO = { email: dev.demo.email, password: dev.demo.password };
export const SCREENSHOTS = process.env.FUNNEL_E2E_SCREENSHOTS ?? path.resolve(here, "../../test-artifacts/screenshots");
fs.mkdirSync(SCREENSHOTS, { recursive: true });

// Without the background-networking flags Chromium keeps calling home on a closed network.
export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

/** A fresh browser profile; `close()` removes it. */
export async function launch({ width = 1366, height = 820 } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "funnel-e2e-profile-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: { width, height },
    timezoneId: "UTC",
    locale: "en-GB",
  });
  context.setDefaultTimeout(20_000);
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  return {
    context,
    page,
    errors,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function shot(page, name) {
  // Toasts are transient: dismiss them so the page itself is what the picture shows.
  await page.locator('[data-testid="toast"] button').evaluateAll((buttons) => buttons.forEach((b) => b.click()));
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

/** Sign in through the login form (signing out whoever was signed in first). */
export async function signIn(page, { email, password } = DEMO) {
  await page.goto(`${BASE}/app/login`);
  await page.evaluate(() => localStorage.clear());
  await page.goto(`${BASE}/app/login`);
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/app\/inbox/);
}

/** A customer number nobody else in this run uses (the 24-hour window opens with its message). */
export function newCustomer() {
  return `9198${String(Date.now()).slice(-6)}${Math.floor(Math.random() * 90 + 10)}`;
}

/** Post one signed webhook change for the demo business account, as Meta would. */
async function metaPosts(change) {
  const body = JSON.stringify({ object: "whatsapp_business_account", entry: [{ id: dev.channel.waba_id, time: Math.floor(Date.now() / 1000), changes: [change] }] });
  const signature = createHmac("sha256", dev.channel.app_secret).update(body).digest("hex");
  const response = await fetch(RECEIVER, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Hub-Signature-256": `sha256=${signature}` },
    body,
  });
  if (response.status !== 200) throw new Error(`receiver answered ${response.status}`);
}

/** Meta's review of a template (`event`: APPROVED, REJECTED, PAUSED…), by its webhook. */
export async function templateReviewed({ metaId, name, language }, event) {
  await metaPosts({
    field: "message_template_status_update",
    value: { event, message_template_id: metaId ?? undefined, message_template_name: name, message_template_language: language, reason: null },
  });
}

/** Post a signed webhook for one inbound text, exactly as Meta would (what `funnel simulate` does). */
export async function customerSays(waId, text, name) {
  const wamid = `wamid.E2E${randomBytes(12).toString("hex").toUpperCase()}`;
  const payload = {
    object: "whatsapp_business_account",
    entry: [{
      id: dev.channel.waba_id,
      changes: [{
        field: "messages",
        value: {
          messaging_product: "whatsapp",
          metadata: { display_phone_number: dev.channel.display_phone_number ?? "15550783881", phone_number_id: dev.channel.phone_number_id },
          contacts: [{ profile: { name }, wa_id: waId }],
          messages: [{ from: waId, id: wamid, timestamp: String(Math.floor(Date.now() / 1000)), type: "text", text: { body: text } }],
        },
      }],
    }],
  };
  const body = JSON.stringify(payload);
  const signature = createHmac("sha256", dev.channel.app_secret).update(body).digest("hex");
  const response = await fetch(RECEIVER, {
    method: "POST",
    headers: { "Content-Type": "application/json", "X-Hub-Signature-256": `sha256=${signature}` },
    body,
  });
  if (response.status !== 200) throw new Error(`receiver answered ${response.status}`);
  return wamid;
}

/** Messages the sandbox recorded as sent to `waId` (what reached "WhatsApp"). */
export async function sentTo(waId) {
  const response = await fetch(`${SANDBOX}/sandbox/sent?to=${waId}`);
  const records = await response.json();
  return records.filter((r) => r.kind === "message" && r.status === "accepted");
}

export async function waitFor(fn, { timeout = 30_000, interval = 250, what = "condition" } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`timed out waiting for ${what}`);
}

let ownerTokenCache = null;

/** The demo owner's access token, signed in once per test file (logins are rate-limited). */
async function ownerToken() {
  if (ownerTokenCache) return ownerTokenCache;
  const login = await fetch(`${BASE}/auth/login`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(DEMO),
  });
  const body = await login.json().catch(() => null);
  if (!login.ok) throw new Error(`owner login: ${login.status} ${JSON.stringify(body)}`);
  ownerTokenCache = body.access_token;
  return ownerTokenCache;
}

// No retry on 401: a token refused minutes after its login is a lost session, and that is a
// failure to see, not to paper over.
async function asOwner(pathname, init) {
  return fetch(`${BASE}${pathname}`, { ...init, headers: { ...init.headers, Authorization: `Bearer ${await ownerToken()}` } });
}

/** REST as the demo owner (setting up a viewer, for instance). */
export async function ownerApi(pathname, { method = "GET", json } = {}) {
  const response = await asOwner(pathname, {
    method,
    headers: json ? { "Content-Type": "application/json" } : {},
    body: json ? JSON.stringify(json) : undefined,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${pathname}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const REPO = path.resolve(here, "../..");

/** End a customer's 24-hour window in the database (no API does that, rightly). */
export async function closeWindow(waId) {
  const { spawnSync } = await import("node:child_process");
  const python = process.env.FUNNEL_E2E_PYTHON ?? path.join(REPO, ".venv/bin/python");
  const result = spawnSync(python, ["-m", "tests.frontend.dbtool", "close-window", devJson, waId], { cwd: REPO, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`close-window failed: ${result.stderr || result.stdout}`);
}

/** GraphQL as the demo owner. */
export async function ownerGraphql(query, variables = {}) {
  const response = await asOwner("/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}
