import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE, SANDBOX, dev, launch, shot, signIn, waitFor } from "./support.mjs";
import { pageApi } from "./pageApi.mjs";

let browser;
const stamp = Date.now().toString(36);

before(async () => {
  browser = await launch();
  await signIn(browser.page);
});
after(async () => { await browser?.close(); });

test("an admin changes the profile, the bot and the hours, and they stay changed", async () => {
  const { page, errors } = browser;
  await page.goto(`${BASE}/app/settings/general`);
  const profile = page.getByTestId("settings-profile");
  await profile.getByLabel(/Business name/).fill(`Chai & Co. ${stamp}`);
  await profile.getByRole("button", { name: "Save" }).click();
  await page.getByTestId("toast").filter({ hasText: "Settings saved." }).waitFor();
  await shot(page, "settings");

  await page.getByRole("link", { name: "Bot" }).click();
  const bot = page.getByTestId("settings-bot");
  const notify = bot.getByLabel(/Notify the customer on handoff/);
  const before = await notify.isChecked();
  await notify.setChecked(!before);
  await bot.getByLabel(/Flow prompt/).fill(`Greet, qualify, offer a tasting. ${stamp}`);
  await bot.getByRole("button", { name: "Save" }).click();
  const saved = await waitFor(async () => {
    const s = await pageApi(page, "/settings");
    return s.notify_customer_on_handoff === !before ? s : null;
  }, { interval: 300, what: "the bot settings saved" });
  assert.match(saved.flow_prompt, new RegExp(stamp));
  assert.match(saved.business_name, new RegExp(stamp));
  await shot(page, "settings-bot");

  await page.getByRole("link", { name: "Hours & follow-ups" }).click();
  const hours = page.getByTestId("settings-hours");
  await hours.getByLabel("Monday is open").setChecked(true);
  await hours.getByLabel("Monday opens").first().fill("08:30");
  await hours.getByLabel("Monday closes").first().fill("17:45");
  await hours.getByRole("button", { name: "Save" }).click();
  await waitFor(async () => {
    const s = await pageApi(page, "/settings");
    return JSON.stringify(s.business_hours.mon) === JSON.stringify([{ start: "08:30", end: "17:45" }]);
  }, { interval: 300, what: "Monday's hours saved" });
  await shot(page, "settings-hours");

  const followups = page.getByTestId("settings-followups");
  await followups.getByLabel("Follow up with leads who go quiet").setChecked(true);
  await followups.getByLabel(/Minutes between follow-ups/).fill("90");
  await followups.getByRole("button", { name: "Save" }).click();
  await waitFor(async () => {
    const s = await pageApi(page, "/settings");
    return s.followup_policy?.min_gap_minutes === 90;
  }, { interval: 300, what: "the follow-up policy saved" });

  await page.getByRole("link", { name: "Models" }).click();
  const models = page.getByTestId("settings-models");
  await models.getByLabel(/Brain/).fill(`brain-${stamp}`);
  await models.getByRole("button", { name: "Save" }).click();
  await waitFor(async () => {
    const s = await pageApi(page, "/settings");
    return s.llm_models.brain === `brain-${stamp}`;
  }, { interval: 300, what: "the brain model saved" });
  await shot(page, "settings-models");

  await page.getByRole("link", { name: "Bot" }).click();
  const links = page.getByTestId("settings-links");
  await links.getByLabel("Allowed domains").fill(`Example.com\n${stamp}.example.in`);
  await links.getByRole("button", { name: "Save" }).click();
  await waitFor(async () => {
    const s = await pageApi(page, "/settings");
    return s.allowed_link_domains.includes(`${stamp}.example.in`) ? s : null;
  }, { interval: 300, what: "the link domains saved" });
  assert.deepEqual(errors, []);
});

test("what is being typed in one section survives saving another", async () => {
  const { page, errors } = browser;
  await page.goto(`${BASE}/app/settings/hours`);
  const followups = page.getByTestId("settings-followups");
  await followups.getByLabel("Follow up with leads who go quiet").setChecked(true);
  const gap = followups.getByLabel(/Minutes between follow-ups/);
  await gap.fill("75");
  const refetched = page.waitForResponse((r) => r.url().endsWith("/graphql") && (r.request().postData() ?? "").includes("query SettingsPage"));
  await page.getByTestId("settings-hours").getByRole("button", { name: "Save" }).click();
  await page.getByTestId("toast").filter({ hasText: "Settings saved." }).waitFor();
  await refetched;
  await page.waitForTimeout(300);
  assert.equal(await gap.inputValue(), "75", "the unsaved follow-up edit is kept");
  assert.equal(await followups.getByLabel("Follow up with leads who go quiet").isChecked(), true);
  assert.deepEqual(errors, []);
});

test("WhatsApp secrets are write-only: last four shown, fields empty", async () => {
  const { page } = browser;
  await page.goto(`${BASE}/app/settings/whatsapp`);
  const channel = page.getByTestId("channel").first();
  await channel.waitFor();
  assert.match(await channel.getByTestId("secret-access").innerText(), /^•••• .{4}$/);
  const secrets = channel.locator("input[type=password]");
  assert.ok((await secrets.count()) >= 3);
  for (let i = 0; i < (await secrets.count()); i++) assert.equal(await secrets.nth(i).inputValue(), "");
  assert.equal(await channel.getByRole("button", { name: "Replace tokens" }).isDisabled(), true);
  await shot(page, "settings-whatsapp");
});

test("an admin connects a number through GraphQL; Meta's refusal is shown and secrets only by their last four", async () => {
  const { page, errors } = browser;
  // A number Meta (the sandbox) knows with one token only; anything else is refused with 190.
  const digits = String(Date.now()).slice(-8);
  const phoneNumberId = `10654${digits}`;
  const secrets = {
    token: `EAAG-e2e-token-${stamp}-TOKN`,
    appSecret: `e2e-app-secret-${stamp}-APPS`,
    verifyToken: `e2e-verify-${stamp}-VRFY`,
  };
  const seeded = await fetch(`${SANDBOX}/sandbox/phone-numbers`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ phone_number_id: phoneNumberId, token: secrets.token, display_phone_number: `1555010${digits.slice(-4)}` }),
  });
  assert.equal(seeded.status, 200);
  const channelCalls = [];
  page.on("request", (r) => {
    if (new URL(r.url()).pathname.startsWith("/settings/whatsapp")) channelCalls.push(`REST ${r.method()} ${r.url()}`);
    if (r.url().endsWith("/graphql") && r.method() === "POST" && /connectChannel|disconnectChannel/.test(r.postData() ?? "")) channelCalls.push("GraphQL");
  });

  await page.goto(`${BASE}/app/settings/whatsapp`);
  await page.getByTestId("channel").first().waitFor();
  await page.getByRole("button", { name: "Connect a number" }).click();
  const form = page.getByRole("dialog");
  await form.getByLabel("Name (optional)").fill(`E2E line ${stamp}`);
  await form.getByLabel("Phone number id").fill(phoneNumberId);
  await form.getByLabel("WhatsApp Business account id").fill(dev.channel.waba_id);
  await form.getByLabel("Access token").fill("EAAG-not-the-token-for-this-number");
  await form.getByLabel("App secret").fill(secrets.appSecret);
  await form.getByLabel("Verify token").fill(secrets.verifyToken);
  await form.getByRole("button", { name: "Connect" }).click();
  // Meta's own reason, not only "rejected": it says what to fix.
  const refusal = page.getByTestId("toast").filter({ hasText: "Could not connect" });
  await refusal.waitFor();
  const reason = await refusal.innerText();
  assert.match(reason, /rejected these credentials: Error validating access token: The session is invalid\./);
  assert.doesNotMatch(reason, /HTTP|fbtrace|expired/, "Meta's words, not a log line");
  await shot(page, "settings-whatsapp-refused");
  assert.equal(await page.getByTestId("channel").filter({ hasText: phoneNumberId }).count(), 0, "nothing stored");

  await form.getByLabel("Access token").fill(secrets.token);
  await form.getByRole("button", { name: "Connect" }).click();
  await page.getByTestId("toast").filter({ hasText: "Number connected." }).waitFor();
  await form.waitFor({ state: "detached" });
  const card = page.getByTestId("channel").filter({ hasText: phoneNumberId });
  await card.waitFor();
  await card.getByText("Connected", { exact: true }).waitFor();
  assert.equal(await card.getByTestId("secret-access").innerText(), "•••• TOKN");
  const shown = await card.innerText();
  assert.match(shown, /•••• APPS/);
  assert.match(shown, /•••• VRFY/);
  const main = await page.locator("main").innerText();
  const values = await page.locator("input").evaluateAll((inputs) => inputs.map((i) => i.value));
  for (const secret of Object.values(secrets)) {
    assert.ok(!main.includes(secret) && !values.includes(secret), "a secret is never shown or kept in a field");
  }
  await shot(page, "settings-whatsapp-connected");

  await card.getByRole("button", { name: "Disconnect" }).click();
  await page.getByRole("dialog").getByRole("button", { name: "Disconnect" }).click();
  await card.getByText("Disconnected", { exact: true }).waitFor();
  assert.equal(await card.getByTestId("secret-access").innerText(), "not set");
  assert.deepEqual(channelCalls, ["GraphQL", "GraphQL", "GraphQL"], "connect (twice) and disconnect went through GraphQL only");
  assert.deepEqual(errors, []);
});

test("an admin invites a colleague, sees the link once, and revokes the invitation", async () => {
  const { page } = browser;
  const email = `agent-${stamp}@example.com`;
  await page.goto(`${BASE}/app/settings/users`);
  await page.getByTestId("member").first().waitFor();
  await page.getByLabel("Email to invite").fill(email);
  await page.getByLabel("Role to invite").selectOption("AGENT");
  await page.getByTestId("invite").click();
  assert.match(await page.getByTestId("invitation-link").inputValue(), /\/app\/invitation\?token=/);
  await page.getByRole("button", { name: "Done" }).click();
  const row = page.getByTestId("invitation").filter({ hasText: email });
  await row.waitFor();
  await shot(page, "settings-users");
  await row.getByRole("button", { name: "Revoke" }).click();
  await row.waitFor({ state: "detached" });
});
