import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE, DEMO, launch, shot, signIn } from "./support.mjs";

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test("a wrong password is refused with a readable reason", async () => {
  const { page } = browser;
  await page.goto(`${BASE}/app/inbox`);
  await page.waitForURL(/\/app\/login/);
  await shot(page, "login");
  await page.getByLabel("Email").fill(DEMO.email);
  await page.getByLabel("Password").fill("not-the-password");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("alert").filter({ hasText: "do not match" }).waitFor();
  assert.match(page.url(), /\/app\/login/);
});

test("signing in lands in the inbox, shows who is signed in, and the dashboard has figures", async () => {
  const { page, errors } = browser;
  await signIn(page);
  await page.getByTestId("who").filter({ hasText: /\S/ }).waitFor();
  assert.equal(await page.getByTestId("role").textContent(), "Owner");
  await page.locator('[data-testid="live-status"]:visible', { hasText: "Live" }).waitFor();
  await page.getByRole("link", { name: "Dashboard" }).click();
  await page.getByTestId("kpi-conversations").waitFor();
  await page.getByRole("heading", { name: "Attention queue" }).waitFor();
  await page.waitForTimeout(500); // charts animate in
  await shot(page, "dashboard");
  // A reload keeps the session (tokens survive) and the page (served by the SPA fallback).
  await page.reload();
  await page.getByTestId("kpi-conversations").waitFor();
  assert.deepEqual(errors, []);
});

test("two tabs whose access token expired refresh once between them and both stay signed in", async () => {
  const { context, page, errors } = browser;
  await signIn(page);
  const second = await context.newPage();
  try {
    // Both tabs share the tokens; make the access token look spent (refused by the API, and
    // due for refresh), then load a page in both tabs at once.
    await page.evaluate(() => {
      const session = JSON.parse(localStorage.getItem("funnel.session"));
      localStorage.setItem("funnel.session", JSON.stringify({ ...session, accessToken: "spent", refreshAfter: 0 }));
    });
    const before = await page.evaluate(() => JSON.parse(localStorage.getItem("funnel.session")).refreshToken);
    await Promise.all([page.goto(`${BASE}/app/dashboard`), second.goto(`${BASE}/app/leads`)]);
    await page.getByTestId("kpi-conversations").waitFor();
    await second.getByRole("heading", { name: "Leads" }).waitFor();
    const tokens = await second.evaluate(() => JSON.parse(localStorage.getItem("funnel.session")));
    assert.notEqual(tokens.refreshToken, before, "the session was refreshed");
    // Still signed in after another round: the family was not revoked as stolen.
    await Promise.all([page.reload(), second.reload()]);
    await page.getByTestId("kpi-conversations").waitFor();
    await second.getByRole("heading", { name: "Leads" }).waitFor();
    assert.match(page.url(), /\/app\/dashboard/);
    assert.match(second.url(), /\/app\/leads/);
  } finally {
    await second.close();
  }
  assert.deepEqual(errors, []);
});
