import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE, customerSays, launch, newCustomer, shot, signIn } from "./support.mjs";

let browser;

before(async () => {
  await customerSays(newCustomer(), "hi, do you deliver?", "Analytics Check");
  browser = await launch();
  await signIn(browser.page);
});
after(async () => { await browser?.close(); });

test("analytics shows the range's figures in the chosen timezone", async () => {
  const { page, errors } = browser;
  await page.goto(`${BASE}/app/analytics`);
  await page.getByTestId("analytics-response").waitFor();
  await page.getByTestId("analytics-usage").waitFor();
  await page.getByLabel("Timezone").selectOption("Asia/Tokyo");
  await page.getByTestId("analytics-range").filter({ hasText: "Asia/Tokyo" }).waitFor();
  await page.getByRole("button", { name: "30 days" }).click();
  await page.getByTestId("analytics-usage").waitFor();
  await page.getByLabel("From", { exact: true }).fill("2030-01-02");
  await page.getByLabel("To", { exact: true }).fill("2030-01-01");
  await page.getByText("The start is after the end.").waitFor();
  await page.getByRole("button", { name: "7 days" }).click();
  await page.getByTestId("analytics-funnel").waitFor();
  await page.getByTestId("analytics-usage").waitFor();
  await shot(page, "analytics");
  assert.deepEqual(errors, []);
});
