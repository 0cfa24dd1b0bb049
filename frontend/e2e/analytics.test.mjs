import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE, customerSays, launch, newCustomer, shot, signIn, waitFor } from "./support.mjs";

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

test("the tokens and cost chart shows each day's LLM tokens and cost from the analytics series", async () => {
  const { page, errors } = browser;
  const answers = [];
  const onResponse = (r) => {
    if (r.url().endsWith("/graphql") && (r.request().postData() ?? "").includes("query AnalyticsPage")) answers.push(r.json().catch(() => null));
  };
  page.on("response", onResponse);
  await page.goto(`${BASE}/app/analytics`);
  // The last 7 days up to today in the organisation's timezone. The page may first show a range
  // ending today in the browser's timezone, until it knows the organisation's.
  const zone = (await page.getByTestId("analytics-range").innerText()).split(" · ").at(-1).trim();
  const today = new Intl.DateTimeFormat("en-CA", { timeZone: zone }).format(new Date());
  await page.getByTestId("analytics-range").filter({ hasText: ` to ${today} · ${zone}` }).waitFor();
  const range = await page.getByTestId("analytics-range").innerText();
  await waitFor(async () => (await Promise.all(answers)).some((a) => a && range.startsWith(`${a.data.analytics.range.dateFrom} to ${a.data.analytics.range.dateTo}`)), { what: `the answer for ${range}` });
  page.off("response", onResponse);
  const analytics = (await Promise.all(answers)).filter(Boolean).map((a) => a.data.analytics)
    .filter((a) => range.startsWith(`${a.range.dateFrom} to ${a.range.dateTo} · ${a.range.timezone}`));
  assert.ok(analytics.length > 0, `an answer for ${range}`);
  const { series } = analytics.at(-1);
  assert.equal(series.length, 7, "one point per day of the range");
  // The warm-up conversation and this file's customer were answered by the bot today.
  const busiest = series.reduce((a, b) => (b.llmInputTokens + b.llmOutputTokens > a.llmInputTokens + a.llmOutputTokens ? b : a));
  assert.ok(busiest.llmInputTokens > 0 && busiest.llmOutputTokens > 0, "the bot's runs are counted");

  const usage = page.getByTestId("analytics-usage");
  await usage.locator(".recharts-bar-rectangle").first().waitFor();
  for (const name of ["Input tokens", "Output tokens", "Cost"]) await usage.locator(".recharts-legend-item").filter({ hasText: name }).waitFor();
  assert.ok(await usage.locator(".recharts-line-curve").count() >= 1, "the cost line is drawn");

  // Hovering the busiest day's band shows its figures as the series has them (one band per day
  // across the plot; the axis may skip some day labels).
  await usage.scrollIntoViewIfNeeded();
  const plot = await usage.locator(".recharts-cartesian-grid").boundingBox();
  const band = plot.width / series.length;
  await page.mouse.move(plot.x + band * (series.indexOf(busiest) + 0.5), plot.y + plot.height / 2);
  const tooltip = usage.locator(".recharts-tooltip-wrapper");
  await tooltip.getByText(busiest.day).waitFor();
  const shown = await tooltip.innerText();
  const cost = busiest.llmCostUsd > 0 && busiest.llmCostUsd < 0.01 ? busiest.llmCostUsd.toFixed(4) : busiest.llmCostUsd.toFixed(2);
  assert.match(shown, new RegExp(`Input tokens\\s*:\\s*${busiest.llmInputTokens.toLocaleString("en-GB")}`));
  assert.match(shown, new RegExp(`Output tokens\\s*:\\s*${busiest.llmOutputTokens.toLocaleString("en-GB")}`));
  assert.match(shown, new RegExp(`Cost\\s*:\\s*\\$${cost}`));
  await shot(page, "analytics-usage");
  assert.deepEqual(errors, []);
});
