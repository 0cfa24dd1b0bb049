import assert from "node:assert/strict";
import fs from "node:fs";
import { after, before, test } from "node:test";
import { BASE, customerSays, launch, newCustomer, shot, signIn, waitFor } from "./support.mjs";
import { pageApi, visible } from "./pageApi.mjs";

let browser;
const waId = newCustomer();
const name = `Lena Leads ${Date.now().toString(36)}`;

before(async () => {
  await customerSays(waId, "hello, what does it cost?", name);
  await customerSays(newCustomer(), "hi there", "Kept Lead");
  browser = await launch();
  await signIn(browser.page);
  // The worker creates the lead from the message.
  await waitFor(async () => (await pageApi(browser.page, `/leads?search=${waId}`)).items.length > 0, { interval: 500, what: "the lead" });
});
after(async () => { await browser?.close(); });

test("the leads page lists a lead, finds it by search and opens its detail", async () => {
  const { page, errors } = browser;
  await page.goto(`${BASE}/app/leads`);
  await visible(page, page.getByTestId("leads-table"));
  await shot(page, "leads");
  await page.getByTestId("leads-search").fill(waId);
  const row = page.getByTestId("lead-row").filter({ hasText: name });
  await waitFor(async () => (await page.getByTestId("lead-row").count()) === 1, { what: "the search to narrow the table" });
  await row.waitFor();
  await row.click();
  const detail = page.getByTestId("lead-detail");
  await detail.waitFor();
  await detail.getByText(`+${waId}`).waitFor();
  await detail.getByText("Can be contacted").waitFor();
  // Details, a tag and a note, as an owner.
  await page.getByRole("button", { name: "Edit details" }).click();
  await page.getByTestId("lead-edit").getByLabel("Company").fill("Acme Teas");
  await page.getByTestId("lead-edit").getByRole("button", { name: "Save" }).click();
  await detail.getByText("Acme Teas").waitFor();
  await page.getByLabel("New tag").fill("e2e-vip");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await detail.getByText("e2e-vip").waitFor();
  await page.getByLabel("New note").fill("Asked about pricing");
  await page.getByRole("button", { name: "Add note" }).click();
  await detail.getByText("Asked about pricing").waitFor();
  assert.ok(await detail.locator("a[href*='/app/inbox/']").count() >= 1, "the lead's conversation is linked");
  await shot(page, "lead-detail");
  // CSV export of the filtered list (REST, streamed, fetched with the access token).
  await page.getByRole("button", { name: "Close" }).click();
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByTestId("leads-export").click()]);
  assert.match(download.suggestedFilename(), /^leads-\d{8}\.csv$/);
  const csv = fs.readFileSync(await download.path(), "utf8");
  assert.ok(csv.includes(waId), "the export has the searched lead");
  assert.equal(csv.trim().split("\n").length, 2, "a header and the one lead the search matches");
  await page.getByTestId("lead-row").filter({ hasText: name }).click();
  await detail.waitFor();
  // Erase needs the typed number.
  await page.getByTestId("lead-erase").click();
  assert.equal(await page.getByTestId("lead-erase-confirm").isDisabled(), true);
  await page.getByLabel("Type to confirm").fill(waId);
  await page.getByTestId("lead-erase-confirm").click();
  await page.getByTestId("lead-detail").waitFor({ state: "detached" });
  await waitFor(async () => (await pageApi(page, `/leads?search=${waId}`)).items.length === 0, { interval: 500, what: "the erasure" });
  assert.deepEqual(errors, []);
});

test("a new customer appears in the leads list without a reload", async () => {
  const { page } = browser;
  await page.goto(`${BASE}/app/leads`);
  await visible(page, page.getByTestId("leads-table"));
  const newcomer = `Nina Newcomer ${Date.now().toString(36)}`;
  await customerSays(newCustomer(), "hello!", newcomer);
  await page.getByTestId("lead-row").filter({ hasText: newcomer }).waitFor({ timeout: 30_000 });
});

test("the leads page fits a phone", async () => {
  const { page } = browser;
  await page.setViewportSize({ width: 390, height: 844 });
  try {
    await page.goto(`${BASE}/app/leads`);
    await page.getByTestId("leads-table").waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no horizontal page scroll (${overflow}px)`);
    await shot(page, "leads-phone");
  } finally {
    await page.setViewportSize({ width: 1366, height: 820 });
  }
});
