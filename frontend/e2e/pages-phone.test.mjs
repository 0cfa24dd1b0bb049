import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE, launch, shot, signIn } from "./support.mjs";

let browser;
const PAGES = [
  { path: "leads", ready: (p) => p.getByRole("heading", { name: "Leads" }) },
  { path: "templates", ready: (p) => p.getByRole("heading", { name: "Templates" }) },
  { path: "templates/new", ready: (p) => p.getByTestId("template-preview") },
  { path: "ctas", ready: (p) => p.getByRole("heading", { name: "Calls to action" }) },
  { path: "knowledge", ready: (p) => p.getByRole("heading", { name: "Test retrieval" }) },
  { path: "analytics", ready: (p) => p.getByTestId("analytics-response") },
  { path: "settings/general", ready: (p) => p.getByTestId("settings-profile") },
  { path: "settings/hours", ready: (p) => p.getByTestId("settings-hours") },
  { path: "settings/whatsapp", ready: (p) => p.getByTestId("channel").first() },
  { path: "settings/users", ready: (p) => p.getByTestId("member").first() },
];

before(async () => {
  browser = await launch({ width: 390, height: 844 });
  await signIn(browser.page);
});
after(async () => { await browser?.close(); });

test("each page fits a phone without sideways scrolling", async () => {
  const { page, errors } = browser;
  for (const { path, ready } of PAGES) {
    await page.goto(`${BASE}/app/${path}`);
    await ready(page).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${path}: no sideways page scroll (${overflow}px)`);
    await shot(page, `phone-${path.replace(/\//g, "-")}`);
  }
  assert.deepEqual(errors, []);
});
