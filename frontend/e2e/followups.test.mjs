import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE, SANDBOX, customerSays, dev, launch, newCustomer, ownerApi, ownerGraphql, sentTo, shot, signIn, waitFor } from "./support.mjs";

let admin;
let viewer;
const suffix = Date.now().toString(36);
const name = `Gentle nudges ${suffix}`;
const templateName = `e2e_nudge_${suffix}`;
const FIELDS = "id name trigger isActive steps { delayMinutes messageHint templateId }";
// The sequences active for "no reply" before this spec (the demo's default): saving ours active
// deactivates them, and they are switched back on afterwards.
let activeBefore = [];
const reader = { email: `fu-reader-${suffix}@example.com`, password: `fu-reader-pass-${suffix}` };

before(async () => {
  // A template Meta has approved, brought in by a sync: what a step may send outside the window.
  const seeded = await fetch(`${SANDBOX}/sandbox/templates`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      waba_id: dev.channel.waba_id,
      name: templateName,
      language: "en",
      category: "MARKETING",
      status: "APPROVED",
      components: [{ type: "BODY", text: "Hi {{1}}, still thinking it over? Reply and we will help.", example: { body_text: [["Asha"]] } }],
    }),
  });
  assert.equal(seeded.ok, true, await seeded.text());
  const { followupSequences } = await ownerGraphql(`{ followupSequences { ${FIELDS} } }`);
  activeBefore = followupSequences.filter((s) => s.isActive && s.trigger === "NO_REPLY");
  await ownerApi("/templates/sync", { method: "POST" });
  admin = await launch();
  await signIn(admin.page);
});
after(async () => {
  await admin?.close();
  await viewer?.close();
  for (const s of activeBefore) {
    const input = { name: s.name, trigger: s.trigger, isActive: true, steps: s.steps };
    const r = await ownerGraphql(
      "mutation($id: ID!, $input: FollowupSequenceInput!) { replaceFollowupSequence(id: $id, input: $input) { __typename } }",
      { id: s.id, input },
    );
    assert.equal(r.replaceFollowupSequence.__typename, "FollowupSequence");
  }
});

test("an admin creates, edits and deletes a two-step sequence", async () => {
  const { page, errors } = admin;
  await page.goto(`${BASE}/app/followups`);
  await page.getByRole("heading", { name: "Follow-ups" }).waitFor();
  await page.getByRole("link", { name: /Hours & follow-ups/ }).waitFor();
  await page.getByTestId("followup-new").click();
  await page.getByLabel("Name", { exact: true }).fill(name);
  await page.getByLabel("Trigger").selectOption("NO_REPLY");
  await page.getByLabel("Step 1 delay").fill("2");
  await page.getByLabel("Step 1 unit").selectOption("hours");
  await page.getByLabel(/Step 1 hint/).fill("Ask whether they had a look at the menu");
  await page.getByTestId("followup-add-step").click();
  await page.getByLabel("Step 2 delay").fill("1");
  await page.getByLabel("Step 2 unit").selectOption("days");
  await page.getByLabel(/Step 2 hint/).fill("Offer a free tasting");
  await page.getByLabel(/Step 2 template/).selectOption({ label: `${templateName} (en)` });
  await shot(page, "followup-editor");
  await page.getByTestId("followup-save").click();

  const row = page.getByTestId("followup-row").filter({ hasText: name });
  await row.getByText("Active", { exact: true }).waitFor();
  await row.getByText("No reply", { exact: true }).waitFor();
  await row.getByText("after 2 hours: Ask whether they had a look at the menu").waitFor();
  await row.getByText(`after 1 day: Offer a free tasting (template ${templateName})`).waitFor();
  // One active sequence per trigger: the one active before is now inactive.
  for (const s of activeBefore) {
    await page.getByTestId("followup-row").filter({ hasText: s.name }).getByText("Inactive", { exact: true }).waitFor();
  }

  // Replace the first step: a new hint, moved after the second.
  await row.getByRole("button", { name: "Edit" }).click();
  await page.getByLabel(/Step 1 hint/).fill("Share this week's offer");
  await page.getByRole("button", { name: "Move step 1 down" }).click();
  assert.equal(await page.getByLabel(/Step 2 hint/).inputValue(), "Share this week's offer");
  // A bad delay is refused next to its field, before the server.
  await page.getByLabel("Step 2 delay").fill("31");
  await page.getByLabel("Step 2 unit").selectOption("days");
  await page.getByTestId("followup-save").click();
  await page.getByText("The delay is at most 30 days.").waitFor();
  await page.getByLabel("Step 2 delay").fill("45");
  await page.getByLabel("Step 2 unit").selectOption("minutes");
  await page.getByTestId("followup-save").click();
  await row.getByText("after 45 minutes: Share this week's offer").waitFor();
  assert.equal(await row.getByTestId("followup-row-step").count(), 2);
  assert.match(await row.getByTestId("followup-row-step").first().innerText(), /after 1 day: Offer a free tasting/);
  await shot(page, "followups");

  await row.getByRole("button", { name: "Delete" }).click();
  await page.getByTestId("followup-delete-confirm").click();
  await row.waitFor({ state: "detached" });
  assert.deepEqual(errors, []);
});

test("a viewer reads sequences but sees no edit controls", async () => {
  await admin.page.goto(`${BASE}/app/followups`);
  const page0 = admin.page;
  await page0.getByTestId("followup-new").click();
  await page0.getByLabel("Name", { exact: true }).fill(`${name} (kept)`);
  await page0.getByLabel("Trigger").selectOption("MANUAL");
  await page0.getByLabel(/Step 1 hint/).fill("Check in");
  await page0.getByTestId("followup-save").click();
  await page0.getByTestId("followup-row").filter({ hasText: `${name} (kept)` }).waitFor();

  const invitation = await ownerApi("/users/invitations", { method: "POST", json: { email: reader.email, role: "viewer" } });
  const token = invitation.accept_token ?? invitation.token;
  viewer = await launch({ width: 390, height: 844 });
  const { page, errors } = viewer;
  await page.goto(`${BASE}/app/invitation?token=${encodeURIComponent(token)}`);
  await page.getByLabel("Your name").fill("Fay Follower");
  await page.getByLabel("Password").fill(reader.password);
  await page.getByRole("button", { name: "Accept invitation" }).click();
  await page.waitForURL(/\/app\/inbox/);
  await page.goto(`${BASE}/app/followups`);
  const row = page.getByTestId("followup-row").filter({ hasText: `${name} (kept)` });
  await row.waitFor();
  for (const label of ["New sequence", "Edit", "Delete"]) {
    assert.equal(await page.getByRole("button", { name: label, exact: true }).count(), 0, `no "${label}" button`);
  }
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `no sideways scrolling at 390 px (${overflow} px)`);
  await row.getByRole("button", { name: "View" }).click();
  assert.equal(await page.getByLabel(/Step 1 hint/).isDisabled(), true);
  assert.equal(await page.getByTestId("followup-save").count(), 0);
  assert.equal(await page.getByTestId("followup-add-step").count(), 0);
  assert.equal(await page.getByRole("button", { name: /Move step|Remove step/ }).count(), 0);
  await shot(page, "followups-viewer-phone");
  assert.deepEqual(errors, []);
});

test("an operator starts the manual sequence on a conversation from the inbox", async () => {
  const { page, errors } = admin;
  const customer = newCustomer();
  const customerName = `Manny ${suffix}`;
  await customerSays(customer, "hello, do you deliver on Sundays?", customerName);
  await waitFor(async () => (await sentTo(customer)).length > 0, { what: "the bot's reply" });
  await page.goto(`${BASE}/app/inbox`);
  await page.getByTestId("conversation-item").filter({ hasText: customerName }).click();
  await page.getByTestId("message").filter({ hasText: "deliver on Sundays" }).waitFor();
  const picker = page.getByTestId("start-followups");
  await picker.locator("option", { hasText: `${name} (kept)` }).waitFor({ state: "attached" });
  // Only active sequences are offered, the manual one first.
  const offered = await picker.locator("option").allTextContents();
  assert.equal(offered[1], `${name} (kept)`, `offered: ${offered.join(", ")}`);
  await picker.selectOption({ label: `${name} (kept)` });
  await page.getByText(`Follow-ups "${name} (kept)" scheduled`).waitFor();
  // A person taking over stops follow-ups: the picker goes away with the bot.
  await page.getByTestId("takeover").click();
  await page.getByTestId("conversation-mode").filter({ hasText: "Human" }).waitFor();
  assert.equal(await page.getByTestId("start-followups").count(), 0);
  await page.getByTestId("release").click();
  await page.getByTestId("conversation-mode").filter({ hasText: "Bot" }).waitFor();
  assert.deepEqual(errors, []);
});
