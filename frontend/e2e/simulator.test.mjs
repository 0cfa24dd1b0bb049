import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE, launch, sentTo, shot, signIn, waitFor } from "./support.mjs";

let browser;
before(async () => {
  browser = await launch();
  await signIn(browser.page);
});
after(async () => { await browser?.close(); });

test("the simulator chats as a customer through the sandbox channel and shows each reply's trace", async () => {
  const { page, errors } = browser;
  await page.goto(`${BASE}/app/simulator`);
  await page.getByRole("button", { name: "New customer" }).click();
  await page.getByTestId("sim-input").fill("Hello! What does delivery cost?");
  await page.getByTestId("sim-send").click();
  await page.getByTestId("sim-customer").filter({ hasText: "What does delivery cost" }).waitFor();
  const reply = page.getByTestId("sim-bot").first();
  await reply.waitFor({ timeout: 45_000 });
  const replyText = ((await reply.textContent()) ?? "").trim();
  assert.ok(replyText.length > 0);
  // The trace of that reply, stage by stage.
  const trace = page.getByTestId("trace-view");
  for (const stage of ["eyes", "rag", "brain", "mouth"]) await trace.getByTestId(`trace-stage-${stage}`).waitFor();
  // It really went out through the sandbox channel: the fake Graph API recorded the send.
  const conversationLink = page.getByRole("link", { name: "Open in inbox" });
  await conversationLink.waitFor();
  const sandboxTexts = await waitFor(async () => {
    const number = await page.evaluate(() => sessionStorage.getItem("simulator.customer"));
    const sent = await sentTo(number);
    return sent.length ? sent : null;
  }, { what: "the bot's reply in the sandbox" });
  assert.ok(sandboxTexts.length >= 1);
  // A second turn continues the same conversation.
  await page.getByTestId("sim-input").fill("Thanks, and do you deliver on Sundays?");
  await page.getByTestId("sim-send").click();
  await page.getByTestId("sim-bot").nth(1).waitFor({ timeout: 45_000 });
  await shot(page, "simulator");
  assert.deepEqual(errors, []);
});
