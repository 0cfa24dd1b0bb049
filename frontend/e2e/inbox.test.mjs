import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE, SANDBOX, customerSays, launch, newCustomer, sentTo, shot, signIn, waitFor } from "./support.mjs";

let browser;
const customer = newCustomer();
const name = `Live ${customer.slice(-4)}`;

before(async () => {
  browser = await launch();
  await signIn(browser.page);
});
after(async () => { await browser?.close(); });

test("a customer's message appears in the inbox live, without a reload", async () => {
  const { page } = browser;
  await page.locator('[data-testid="live-status"]:visible', { hasText: "Live" }).waitFor();
  // Marks this document: a reload or navigation would drop it.
  await page.evaluate(() => { window.__noReload = true; });
  await customerSays(customer, "hi, what does delivery cost?", name);
  const item = page.getByTestId("conversation-item").filter({ hasText: name });
  await item.waitFor({ timeout: 30_000 });
  assert.equal(await page.evaluate(() => window.__noReload), true);
  await item.click();
  await page.getByTestId("message").filter({ hasText: "what does delivery cost" }).waitFor();
  // The bot's reply arrives live too, with a delivery tick.
  await page.locator('[data-testid="message"][data-author="BOT"]').first().waitFor({ timeout: 30_000 });
  await page.locator('[data-testid="message"][data-author="BOT"] [data-testid="tick"]').first().waitFor();
  await shot(page, "inbox");
});

test("the trace drawer shows Eyes, the knowledge used, Brain and Mouth for a bot message", async () => {
  const { page } = browser;
  await page.getByTestId("open-trace").first().click();
  const drawer = page.getByRole("dialog", { name: "Trace" });
  for (const stage of ["eyes", "rag", "brain", "mouth"]) {
    await drawer.getByTestId(`trace-stage-${stage}`).waitFor();
  }
  await drawer.getByText("Knowledge used").waitFor();
  const summary = await drawer.getByTestId("trace-summary").textContent();
  assert.match(summary, /tokens/);
  assert.match(summary, /offline/);
  await shot(page, "trace");
  await page.keyboard.press("Escape");
  await drawer.waitFor({ state: "detached" });
});

test("take over, reply as a person (it reaches WhatsApp), then release to the bot", async () => {
  const { page } = browser;
  const view = page.getByTestId("conversation-view");
  await page.getByTestId("takeover").click();
  await page.getByTestId("conversation-mode").filter({ hasText: "Human" }).waitFor();
  assert.equal(await view.getAttribute("data-mode"), "HUMAN");
  const reply = `A person here: delivery is free over 500 (${customer.slice(-4)})`;
  await page.getByTestId("composer-input").fill(reply);
  await page.getByTestId("composer-send").click();
  await page.locator('[data-testid="message"][data-author="HUMAN"]').filter({ hasText: reply }).waitFor();
  const sent = await waitFor(
    async () => (await sentTo(customer)).find((r) => r.body?.text?.body === reply),
    { what: "the human reply in the sandbox" },
  );
  assert.equal(sent.to, customer);
  // The tick moves past "queued" once the outbox has sent it.
  await page
    .locator('[data-testid="message"][data-author="HUMAN"]')
    .filter({ hasText: reply })
    .locator('[data-testid="tick"]:not([data-status="PENDING"])')
    .waitFor({ timeout: 30_000 });
  await shot(page, "inbox-human");
  await page.getByTestId("release").click();
  await page.getByTestId("conversation-mode").filter({ hasText: "Bot" }).waitFor();
  await page.getByTestId("takeover").waitFor();
});

test("a photo goes out as media, and a send WhatsApp refuses shows as failed with the reason", async () => {
  const { page } = browser;
  await page.getByTestId("takeover").click();
  await page.getByTestId("conversation-mode").filter({ hasText: "Human" }).waitFor();
  // A 1×1 PNG (the API checks the magic bytes).
  const png = Buffer.from(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==",
    "base64",
  );
  await page.locator('input[type="file"]').setInputFiles({ name: "photo.png", mimeType: "image/png", buffer: png });
  const photo = page.locator('[data-testid="message"][data-author="HUMAN"]').filter({ hasText: "Photo" });
  await photo.waitFor();
  await waitFor(async () => (await sentTo(customer)).find((r) => r.body?.type === "image"), { what: "the photo in the sandbox" });
  // The bubble draws the stored copy, fetched with the session's token.
  const image = photo.getByTestId("message-image");
  await image.waitFor({ timeout: 15_000 });
  await waitFor(async () => (await image.evaluate((img) => img.complete && img.naturalWidth)) > 0, { what: "the photo drawn in its bubble" });

  // The next send to this customer is accepted, then reported failed by status webhook.
  const rule = await fetch(`${SANDBOX}/sandbox/script`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify([{ to: customer, async_error_code: 131026 }]),
  });
  assert.equal(rule.ok, true);
  const doomed = `This one will not arrive (${customer.slice(-4)})`;
  await page.getByTestId("composer-input").fill(doomed);
  await page.getByTestId("composer-send").click();
  const bubble = page.locator('[data-testid="message"][data-author="HUMAN"]').filter({ hasText: doomed });
  await bubble.locator('[data-testid="tick"][data-status="FAILED"]').waitFor({ timeout: 30_000 });
  const reason = await bubble.getByTestId("fail-reason").textContent();
  assert.match(reason, /131026/);
  await shot(page, "inbox-failed");
  await page.getByTestId("release").click();
  await page.getByTestId("conversation-mode").filter({ hasText: "Bot" }).waitFor();
});

test("an admin saves quick replies; in the composer / opens a filterable picker, arrows and Enter insert one", async () => {
  const { page } = browser;
  const conversationUrl = page.url();
  const stamp = customer.slice(-4);
  await page.goto(`${BASE}/app/settings/quick-replies`);
  const section = page.getByTestId("settings-quick-replies");
  for (const [title, text] of [
    [`Delivery charges ${stamp}`, `Delivery is free above 500 rupees (${stamp}).`],
    [`Delivery times ${stamp}`, `We deliver between 10 am and 8 pm (${stamp}).`],
  ]) {
    const form = section.getByTestId("quick-reply-form").last();
    await form.getByLabel("Title (what agents type after /)").fill(title);
    await form.getByLabel("Text").fill(text);
    await form.getByRole("button", { name: "Add" }).click();
    await section.getByTestId("quick-reply-row").filter({ hasText: title }).waitFor();
  }
  await shot(page, "settings-quick-replies");

  await page.goto(conversationUrl);
  await page.getByTestId("takeover").click();
  await page.getByTestId("conversation-mode").filter({ hasText: "Human" }).waitFor();
  const input = page.getByTestId("composer-input");
  await input.click();
  await input.pressSequentially(`Hello! /deliv`);
  const picker = page.getByTestId("quick-reply-picker");
  await picker.waitFor();
  const options = picker.getByTestId("quick-reply-option");
  assert.deepEqual(
    (await options.allInnerTexts()).filter((t) => t.includes(stamp)).map((t) => t.split("\n")[0]),
    [`Delivery charges ${stamp}`, `Delivery times ${stamp}`],
  );
  // The arrow keys choose, Enter inserts the text in place of "/…".
  await page.keyboard.press("ArrowDown");
  const times = options.filter({ hasText: `Delivery times ${stamp}` });
  assert.equal(await times.getAttribute("aria-selected"), "true");
  await shot(page, "composer-quick-replies");
  await page.keyboard.press("Enter");
  await picker.waitFor({ state: "detached" });
  const chosen = `Hello! We deliver between 10 am and 8 pm (${stamp}).`;
  assert.equal(await input.inputValue(), chosen);
  // More letters narrow the list; Escape closes it for that slash, the text stays as typed.
  await input.pressSequentially(" /charg");
  await picker.waitFor();
  assert.deepEqual(
    (await options.allInnerTexts()).filter((t) => t.includes(stamp)).map((t) => t.split("\n")[0]),
    [`Delivery charges ${stamp}`],
  );
  await page.keyboard.press("Escape");
  await picker.waitFor({ state: "detached" });
  assert.equal(await input.inputValue(), `${chosen} /charg`);
  await input.fill(chosen);
  await page.getByTestId("composer-send").click();
  await page.locator('[data-testid="message"][data-author="HUMAN"]').filter({ hasText: chosen }).waitFor();
  await waitFor(async () => (await sentTo(customer)).find((r) => r.body?.text?.body === chosen), { what: "the quick reply in the sandbox" });
  await page.getByTestId("release").click();
  await page.getByTestId("conversation-mode").filter({ hasText: "Bot" }).waitFor();
});

test("resolve attention, assign and close a conversation the bot handed over", async () => {
  const { page } = browser;
  const other = newCustomer();
  const otherName = `Handoff ${other.slice(-4)}`;
  await customerSays(other, "I want to talk to a human please", otherName);
  await page.getByTestId("conversation-item").filter({ hasText: otherName }).click();
  const view = page.getByTestId("conversation-view");
  await view.getByText("Needs attention").waitFor({ timeout: 30_000 });
  await page.getByRole("button", { name: "Resolve attention" }).click();
  await view.getByText("Needs attention").waitFor({ state: "detached" });
  await page.getByLabel("Assign to").selectOption({ label: "Demo Owner (me)" });
  await page.getByTestId("toast").filter({ hasText: "Assigned" }).waitFor();
  await page.getByTestId("conversation-item").filter({ hasText: otherName }).filter({ hasText: "Demo Owner" }).waitFor();
  await page.getByRole("button", { name: "Close", exact: true }).click();
  await page.getByTestId("conversation-mode").filter({ hasText: "Closed" }).waitFor();
  await page.getByTestId("composer-readonly").waitFor();
});

test("a conversation not yet opened is bold with its unread count, live; opening it reads it", async () => {
  const { page } = browser;
  const third = newCustomer();
  const thirdName = `Unread ${third.slice(-4)}`;
  await customerSays(third, "Do you deliver on Sundays?", thirdName);
  const row = page.getByTestId("conversation-item").filter({ hasText: thirdName });
  await row.locator('[data-testid="unread-count"]', { hasText: "1" }).waitFor({ timeout: 30_000 });
  assert.match(await row.getAttribute("class"), /\bunread\b/);
  // The bot's answer is not unread; the customer's second message is, without a reload.
  await page.evaluate(() => { window.__noReload = true; });
  await customerSays(third, "And on public holidays?", thirdName);
  await row.locator('[data-testid="unread-count"]', { hasText: "2" }).waitFor({ timeout: 30_000 });
  assert.equal(await page.evaluate(() => window.__noReload), true);
  await shot(page, "inbox-unread");
  await row.click();
  await page.getByTestId("message").filter({ hasText: "public holidays" }).waitFor();
  await row.locator('[data-testid="unread-count"]').waitFor({ state: "detached" });
  // Read on the server, not only on this screen: still read after a reload elsewhere.
  await page.goto(`${BASE}/app/inbox`);
  await row.waitFor();
  await waitFor(async () => (await row.getAttribute("data-unread")) === "0", { what: "the conversation read after a reload" });
  assert.doesNotMatch(await row.getAttribute("class"), /\bunread\b/);
});

test("j and k move through the conversation list", async () => {
  const { page } = browser;
  await page.locator("body").click({ position: { x: 5, y: 5 } }).catch(() => undefined);
  const items = page.getByTestId("conversation-item");
  if ((await items.count()) < 2) return;
  const first = await items.nth(0).getAttribute("data-conversation-id");
  const second = await items.nth(1).getAttribute("data-conversation-id");
  await page.goto(page.url().replace(/\/inbox.*$/, `/inbox/${first}`));
  await page.getByTestId("conversation-view").waitFor();
  await page.keyboard.press("j");
  await page.waitForURL(new RegExp(`/inbox/${second}$`));
  await page.keyboard.press("k");
  await page.waitForURL(new RegExp(`/inbox/${first}$`));
});

test("at phone width the list and the conversation take the whole screen in turn", async () => {
  const { page } = browser;
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(page.url().replace(/\/inbox.*$/, "/inbox"));
  await page.getByTestId("conversation-item").first().waitFor();
  await shot(page, "inbox-phone");
  await page.getByTestId("conversation-item").first().click();
  await page.getByTestId("conversation-view").waitFor();
  assert.equal(await page.getByTestId("conversation-list").isVisible(), false);
  await shot(page, "conversation-phone");
});
