import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import {
  BASE, SANDBOX, closeWindow, customerSays, dev, launch, newCustomer, ownerApi, ownerGraphql, sentTo, shot, signIn, waitFor,
} from "./support.mjs";

let browser;
let conversationId;
const customer = newCustomer();
const templateName = `order_ready_${Date.now().toString(36)}`;

before(async () => {
  // A customer wrote a day ago: their conversation exists and its window has closed.
  await customerSays(customer, "Is my order ready?", "Window Closed");
  conversationId = await waitFor(async () => {
    const data = await ownerGraphql(
      "query($s: String) { conversations(first: 5, filter: { search: $s }) { edges { node { id lead { waId } } } } }",
      { s: customer },
    );
    return data.conversations.edges.find((e) => e.node.lead?.waId === customer)?.node.id;
  }, { what: "the conversation" });
  await waitFor(async () => (await sentTo(customer)).length > 0, { what: "the bot's first reply" });
  await closeWindow(customer);
  // A template Meta has approved, brought in by a sync.
  const seeded = await fetch(`${SANDBOX}/sandbox/templates`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      waba_id: dev.channel.waba_id,
      name: templateName,
      language: "en",
      category: "UTILITY",
      status: "APPROVED",
      components: [{ type: "BODY", text: "Hi {{1}}, your order {{2}} is ready for pickup.", example: { body_text: [["Asha", "#42"]] } }],
    }),
  });
  assert.equal(seeded.ok, true, await seeded.text());
  await ownerApi("/templates/sync", { method: "POST" });
  browser = await launch();
  await signIn(browser.page);
});
after(async () => { await browser?.close(); });

test("outside the 24-hour window the composer offers only approved templates, with parameters and a preview", async () => {
  const { page } = browser;
  await page.goto(`${BASE}/app/inbox/${conversationId}`);
  await page.getByTestId("conversation-view").waitFor();
  // The bot may already have handed it over (then it is in a person's hands): take it if not.
  await page.locator('[data-testid="takeover"], [data-testid="release"]').first().waitFor();
  if (await page.getByTestId("takeover").count()) await page.getByTestId("takeover").click();
  const picker = page.getByTestId("template-picker");
  await picker.waitFor();
  assert.equal(await page.getByTestId("composer-input").count(), 0, "no free text outside the window");
  await picker.getByLabel("Template").selectOption({ label: `${templateName} (en)` });
  await picker.getByPlaceholder("Parameter {{1}}").fill("Asha");
  const send = picker.getByRole("button", { name: "Send template" });
  assert.equal(await send.isDisabled(), true, "every parameter is required");
  await picker.getByPlaceholder("Parameter {{2}}").fill("#42");
  await picker.getByText("Hi Asha, your order #42 is ready for pickup.").waitFor();
  await shot(page, "inbox-template");
  await send.click();
  const sent = await waitFor(
    async () => (await sentTo(customer)).find((r) => r.body?.type === "template" && r.body.template?.name === templateName),
    { what: "the template in the sandbox" },
  );
  const parameters = sent.body.template.components.find((c) => c.type.toLowerCase() === "body").parameters.map((p) => p.text);
  assert.deepEqual(parameters, ["Asha", "#42"]);
  await page.locator('[data-testid="message"][data-author="HUMAN"]').filter({ hasText: "Template" }).waitFor();
  await page.getByTestId("release").click();
});
