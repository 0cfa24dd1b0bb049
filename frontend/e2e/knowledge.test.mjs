import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, test } from "node:test";
import { visible } from "./pageApi.mjs";
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
  await page.goto(`${BASE}/app/knowledge`);
  // On a timeout this says what the page showed instead (once, in CI, the form never appeared).
  await visible(page, page.getByTestId("knowledge-upload"));
  await page.locator("input[type=file]").setInputFiles(file);
  await page.getByLabel("Title (optional)").fill(title);
  await page.getByTestId("knowledge-upload-submit").click();
  const row = page.getByTestId("knowledge-document").filter({ hasText: title });
  await row.waitFor();
  // The list polls while the document is pending or processing; no reload.
  await row.getByText("Ready", { exact: true }).waitFor({ timeout: 60_000 });
  assert.notEqual((await row.locator("td").nth(2).innerText()).trim(), "0", "the document has chunks");
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
