import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE, SANDBOX, dev, launch, ownerGraphql, shot, signIn, templateReviewed, waitFor } from "./support.mjs";

let browser;
const name = `e2e_offer_${Date.now().toString(36)}`;

before(async () => {
  browser = await launch();
  await signIn(browser.page);
});
after(async () => { await browser?.close(); });

test("the builder checks Meta's limits, previews, creates a draft and submits it", async () => {
  const { page, errors } = browser;
  await page.goto(`${BASE}/app/templates`);
  await page.getByTestId("template-new").click();
  await page.getByLabel("Name", { exact: true }).fill("Bad Name");
  await page.getByLabel("Body", { exact: true }).fill("Hi {{1}}, your offer {{3}} ends soon.");
  await page.getByTestId("template-save").click();
  await page.getByText("Lowercase letters, digits and underscores only.").waitFor();
  await page.getByText(/numbered in order/).waitFor();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Body", { exact: true }).fill("Hi {{1}}, your offer {{2}} ends soon.");
  await page.getByLabel("Example for {{1}}").fill("Asha");
  await page.getByLabel("Example for {{2}}").fill("20% off");
  await page.getByLabel("Footer", { exact: true }).fill("Chai & Co.");
  await page.getByRole("button", { name: "+ Button" }).click();
  await page.getByLabel("Button 1 text").fill("Yes please");
  const preview = page.getByTestId("template-preview");
  await preview.getByText("Hi Asha, your offer 20% off ends soon.").waitFor();
  await preview.getByText("Yes please").waitFor();
  await shot(page, "template-builder");
  await page.getByTestId("template-save").click();
  const row = page.getByTestId("template-row").filter({ hasText: name });
  await row.waitFor();
  await row.getByText("Draft").waitFor();
  await row.getByRole("button", { name: "Submit" }).click();
  await row.getByText(/Pending|Approved/).waitFor();
  await shot(page, "templates");
  assert.deepEqual(errors, []);
});

test("a template rejected on Meta is synced, fixed in the builder and resubmitted", async () => {
  const { page, errors } = browser;
  const rejected = `e2e_rejected_${Date.now().toString(36)}`;
  const seeded = await fetch(`${SANDBOX}/sandbox/templates`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      waba_id: dev.channel.waba_id, name: rejected, language: "en", category: "MARKETING", status: "REJECTED",
      components: [{ type: "BODY", text: "Hi {{1}}, BUY NOW!!!", example: { body_text: [["Asha"]] } }],
    }),
  });
  assert.equal(seeded.status, 200);
  await page.goto(`${BASE}/app/templates`);
  await page.getByTestId("templates-sync").click();
  const row = page.getByTestId("template-row").filter({ hasText: rejected });
  await row.waitFor();
  await row.getByText("Rejected", { exact: true }).waitFor();
  await row.getByRole("button", { name: "Edit" }).click();
  await page.getByLabel("Body", { exact: true }).fill("Hi {{1}}, our new blend is in. Reply to reserve a pack.");
  await page.getByTestId("template-preview").getByText("Hi Asha, our new blend is in. Reply to reserve a pack.").waitFor();
  await page.getByTestId("template-save").click();
  await row.waitFor();
  await row.getByRole("button", { name: "Resubmit" }).click();
  await row.getByText(/Pending|Approved/).waitFor();
  assert.deepEqual(errors, []);
});

test("a review that lands while the events socket is down shows once it is back, without a reload", async () => {
  const { page, errors } = browser;
  // The page's events socket goes through here, so it can be cut and refused for a while. The
  // cut is a 1011 (internal error), a code graphql-ws gives up on for good: the dashboard's own
  // resubscribe must bring it back. Refused attempts meanwhile are 1012, as a deploy answers.
  let down = false;
  let current = null;
  const attempts = [];
  const t0 = Date.now();
  await page.routeWebSocket(/\/graphql$/, (ws) => {
    attempts.push(`${Date.now() - t0}ms ${down ? "refused" : "through"}`);
    if (down) return void ws.close({ code: 1012, reason: "restarting" });
    const server = ws.connectToServer();
    current = { ws, server };
  });
  await page.goto(`${BASE}/app/templates`);
  await page.evaluate(() => { window.__sameDocument = true; });
  const row = page.getByTestId("template-row").filter({ hasText: name });
  await row.getByText("Pending", { exact: true }).waitFor();
  const live = page.getByTestId("live-status").last();
  await live.filter({ hasText: "Live" }).waitFor();

  down = true;
  await current.server.close({ code: 1011, reason: "internal error" });
  await current.ws.close({ code: 1011, reason: "internal error" });
  await live.filter({ hasText: "Reconnecting" }).waitFor();
  const { templates } = await ownerGraphql("{ templates { name language status metaTemplateId } }");
  const template = templates.find((t) => t.name === name);
  await templateReviewed(template, "APPROVED");
  await waitFor(async () => {
    const now = await ownerGraphql("{ templates { name status } }");
    return now.templates.find((t) => t.name === name)?.status === "APPROVED";
  }, { what: "the review applied" });
  await page.waitForTimeout(500);
  assert.equal(await row.getByText("Pending", { exact: true }).count(), 1, "the event was missed while down");

  down = false;
  const upAt = Date.now() - t0;
  await live.filter({ hasText: "Live" }).waitFor({ timeout: 30_000 }).catch((e) => {
    throw new Error(`${e.message}\nup at ${upAt}ms; attempts: ${attempts.join(", ")}`);
  });
  await row.getByText("Approved", { exact: true }).waitFor({ timeout: 5_000 });
  assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page was not reloaded");
  assert.deepEqual(errors, []);
});
