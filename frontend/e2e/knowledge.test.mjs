import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { pageApi, visible } from "./pageApi.mjs";
import { BASE, launch, shot, signIn } from "./support.mjs";

let browser;
const stamp = Date.now().toString(36);
const title = `Opening hours ${stamp}`;
const file = path.join(os.tmpdir(), `opening-hours-${stamp}.md`);

before(async () => {
  fs.writeFileSync(file, [
    `# Opening hours ${stamp}`,
    "",
    "The Koramangala tea house opens at 7 am and closes at 11 pm every day, Sundays included.",
    "Masala chai costs 40 rupees; the cardamom shortbread costs 60 rupees.",
    "",
    "## Parking",
    "",
    "Free parking for bicycles and scooters is behind the building on the east lane.",
  ].join("\n"));
  browser = await launch();
  await signIn(browser.page);
});
after(async () => {
  await browser?.close();
  fs.rmSync(file, { force: true });
});

test("a knowledge document is uploaded with progress, ingested, found by search, and deleted", async () => {
  const { page, errors } = browser;
  // What the events socket delivers, and when the list is fetched, to tell a live update from
  // a poll or a reload.
  const events = [];
  const listFetches = [];
  page.on("websocket", (ws) => ws.on("framereceived", ({ payload }) => {
    const message = JSON.parse(String(payload));
    const update = message.payload?.data?.knowledgeDocumentUpdated;
    if (update) events.push({ ...update, at: Date.now() });
  }));
  page.on("request", (r) => {
    if (r.url().endsWith("/graphql") && (r.postData() ?? "").includes("query KnowledgeDocuments")) listFetches.push(Date.now());
  });
  await page.goto(`${BASE}/app/knowledge`);
  await page.evaluate(() => { window.__sameDocument = true; });
  // On a timeout this says what the page showed instead (once, in CI, the form never appeared).
  await visible(page, page.getByTestId("knowledge-upload"));
  await page.locator("input[type=file]").setInputFiles(file);
  await page.getByLabel("Title (optional)").fill(title);
  await page.getByTestId("knowledge-upload-submit").click();
  const row = page.getByTestId("knowledge-document").filter({ hasText: title });
  await row.waitFor();
  // Ready arrives by knowledgeDocumentUpdated, without a reload, and only with the chunk count.
  await row.getByText("Ready", { exact: true }).waitFor({ timeout: 60_000 });
  assert.notEqual((await row.locator("td").nth(2).innerText()).trim(), "0", "the document has chunks");
  assert.equal(await page.evaluate(() => window.__sameDocument), true, "the page was not reloaded");
  const { id } = (await pageApi(page, "/knowledge/documents")).find((d) => d.title === title);
  const mine = events.filter((e) => e.documentId === id);
  const ready = mine.find((e) => e.status === "READY");
  assert.ok(ready, `a READY event reached the page (got ${JSON.stringify(mine)})`);
  assert.ok(mine.some((e) => e.status === "PROCESSING"), "processing was reported on the way");
  assert.ok(listFetches.some((t) => t >= ready.at && t - ready.at < 2_000), "the READY event refetched the list");
  // Nothing is ingesting any more: the page does not poll.
  const fetchedSoFar = listFetches.length;
  await page.waitForTimeout(2_500);
  assert.equal(listFetches.length, fetchedSoFar, "no polling once every document is finished");
  await page.getByTestId("knowledge-query").fill("When does the tea house open and close?");
  await page.getByTestId("knowledge-search").click();
  const hit = page.getByTestId("knowledge-hit").filter({ hasText: title }).first();
  await hit.waitFor();
  assert.match(await hit.innerText(), /7 am/);
  assert.match(await hit.innerText(), /\d\.\d{3}/, "the hit shows its score");
  await shot(page, "knowledge");
  await row.getByRole("button", { name: `Delete ${title}` }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Delete" }).click();
  await row.waitFor({ state: "detached" });
  assert.deepEqual(errors, []);
});
