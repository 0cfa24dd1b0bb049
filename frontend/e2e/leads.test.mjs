import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE, customerSays, launch, newCustomer, shot, signIn, waitFor, ownerApi } from "./support.mjs";

let browser;
const waId = newCustomer();
const name = `Lena Leads ${Date.now().toString(36)}`;

before(async () => {
  await customerSays(waId, "hello, what does it cost?", name);
  await customerSays(newCustomer(), "hi there", "Kept Lead");
  // The worker creates the lead from the message.
  await waitFor(async () => (await ownerApi(`/leads?search=${waId}`)).items.length > 0, { what: "the lead" });
  browser = await launch();
  await signIn(browser.page);
});
after(async () => { await browser?.close(); });

test("the leads page lists a lead, finds it by search and opens its detail", async () => {
  const { page, errors } = browser;
  await page.goto(`${BASE}/app/leads`);
  await page.getByTestId("leads-table").waitFor();
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
  // A tag and a note, as an owner.
  await page.getByLabel("New tag").fill("e2e-vip");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await detail.getByText("e2e-vip").waitFor();
  await page.getByLabel("New note").fill("Asked about pricing");
  await page.getByRole("button", { name: "Add note" }).click();
  await detail.getByText("Asked about pricing").waitFor();
  assert.ok(await detail.locator("a[href*='/app/inbox/']").count() >= 1, "the lead's conversation is linked");
  await shot(page, "lead-detail");
  // Erase needs the typed number.
  await page.getByTestId("lead-erase").click();
  assert.equal(await page.getByTestId("lead-erase-confirm").isDisabled(), true);
  await page.getByLabel("Type to confirm").fill(waId);
  await page.getByTestId("lead-erase-confirm").click();
  await page.getByTestId("lead-detail").waitFor({ state: "detached" });
  await waitFor(async () => (await ownerApi(`/leads?search=${waId}`)).items.length === 0, { what: "the erasure" });
  assert.deepEqual(errors, []);
});

test("the leads page fits a phone", async () => {
  const phone = await launch({ width: 390, height: 844 });
  try {
    await signIn(phone.page);
    await phone.page.goto(`${BASE}/app/leads`);
    await phone.page.getByTestId("leads-table").waitFor();
    const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no horizontal page scroll (${overflow}px)`);
    await shot(phone.page, "leads-phone");
  } finally {
    await phone.close();
  }
});
