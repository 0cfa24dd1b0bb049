import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE, launch, shot, signIn } from "./support.mjs";

let browser;
const name = `Book a tasting ${Date.now().toString(36)}`;

before(async () => {
  browser = await launch();
  await signIn(browser.page);
});
after(async () => { await browser?.close(); });

test("a CTA is created, deactivated, activated and edited", async () => {
  const { page, errors } = browser;
  await page.goto(`${BASE}/app/ctas`);
  await page.getByTestId("cta-new").click();
  await page.getByLabel("Type").selectOption("SEND_LINK");
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByTestId("cta-save").click();
  await page.getByText("A send-link CTA needs a URL.", { exact: false }).waitFor();
  await page.getByLabel("URL").fill("https://example.com/tasting");
  await page.getByLabel(/Button text/).fill("Book now");
  await page.getByTestId("cta-save").click();
  const row = page.getByTestId("cta-row").filter({ hasText: name });
  await row.getByText("Active", { exact: true }).waitFor();
  await row.getByRole("button", { name: "Deactivate" }).click();
  await row.getByText("Inactive", { exact: true }).waitFor();
  await row.getByRole("button", { name: "Activate" }).click();
  await row.getByText("Active", { exact: true }).waitFor();
  await row.getByRole("button", { name: "Edit" }).click();
  await page.getByLabel(/Description/).fill("A free tasting at the shop");
  await page.getByTestId("cta-save").click();
  await row.getByText("A free tasting at the shop").waitFor();
  await shot(page, "ctas");
  assert.deepEqual(errors, []);
});
