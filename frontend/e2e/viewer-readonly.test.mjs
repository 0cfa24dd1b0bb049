import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE, launch, ownerApi, shot } from "./support.mjs";

let browser;
const suffix = Date.now().toString(36);
const viewer = { email: `reader-${suffix}@example.com`, password: `reader-pass-${suffix}` };
const template = `e2e_viewer_${suffix}`;

before(async () => {
  await ownerApi("/templates", {
    method: "POST",
    json: { name: template, language: "en", category: "utility", content: { body: "Hi {{1}}, your table is ready.", body_examples: ["Asha"] } },
  });
  const invitation = await ownerApi("/users/invitations", { method: "POST", json: { email: viewer.email, role: "viewer" } });
  const token = invitation.accept_token ?? invitation.token;
  browser = await launch();
  const { page } = browser;
  await page.goto(`${BASE}/app/invitation?token=${encodeURIComponent(token)}`);
  await page.getByLabel("Your name").fill("Rita Reader");
  await page.getByLabel("Password").fill(viewer.password);
  await page.getByRole("button", { name: "Accept invitation" }).click();
  await page.waitForURL(/\/app\/inbox/);
  await page.getByTestId("role").filter({ hasText: "Viewer" }).waitFor();
});
after(async () => { await browser?.close(); });

async function noButtons(page, names) {
  for (const name of names) {
    assert.equal(await page.getByRole("button", { name, exact: true }).count(), 0, `no "${name}" button`);
  }
}

test("a viewer reads templates but cannot create, submit, edit or delete them", async () => {
  const { page } = browser;
  await page.goto(`${BASE}/app/templates`);
  const row = page.getByTestId("template-row").filter({ hasText: template });
  await row.waitFor();
  await noButtons(page, ["New template", "Sync with Meta", "Submit", "Resubmit", "Edit", "Delete"]);
  await shot(page, "templates-viewer");
  await row.click();
  await page.getByTestId("template-preview").getByText("Hi Asha, your table is ready.").waitFor();
  assert.equal(await page.getByTestId("template-save").count(), 0);
  assert.equal(await page.getByRole("button", { name: "+ Button" }).count(), 0);
  assert.equal(await page.getByLabel("Body", { exact: true }).isDisabled(), true);
});

test("a viewer reads settings but sees no edit controls", async () => {
  const { page } = browser;
  for (const tab of ["general", "bot", "hours", "models"]) {
    await page.goto(`${BASE}/app/settings/${tab}`);
    await page.locator(".settings-fields").first().waitFor();
    await noButtons(page, ["Save", "+ Range"]);
    const fieldsets = page.locator("fieldset.settings-fields");
    for (let i = 0; i < (await fieldsets.count()); i++) assert.notEqual(await fieldsets.nth(i).getAttribute("disabled"), null, `${tab} is read-only`);
    const firstField = page.locator("fieldset.settings-fields").first().locator("input, textarea, select").first();
    assert.equal(await firstField.isDisabled(), true, `${tab}'s fields are disabled`);
  }
  await shot(page, "settings-viewer");
  await page.goto(`${BASE}/app/settings/whatsapp`);
  await page.getByTestId("channel").first().waitFor();
  await noButtons(page, ["Connect a number", "Replace tokens", "Rotate app secret", "Disconnect"]);
  assert.equal(await page.locator("input[type=password]").count(), 0);
  await page.goto(`${BASE}/app/settings/users`);
  await page.getByTestId("member").first().waitFor();
  await noButtons(page, ["Invite", "Deactivate", "Revoke"]);
  assert.equal(await page.getByTestId("members").locator("select").count(), 0);
});

test("a viewer cannot change CTAs, knowledge or leads either", async () => {
  const { page } = browser;
  await page.goto(`${BASE}/app/ctas`);
  await page.getByRole("heading", { name: "Calls to action" }).waitFor();
  await noButtons(page, ["New CTA", "Activate", "Deactivate", "Edit", "Delete"]);
  await page.goto(`${BASE}/app/knowledge`);
  await page.getByRole("heading", { name: "Test retrieval" }).waitFor();
  assert.equal(await page.getByTestId("knowledge-upload").count(), 0);
  await page.goto(`${BASE}/app/leads`);
  await page.getByRole("heading", { name: "Leads" }).waitFor();
  assert.equal(await page.getByTestId("leads-export").count(), 0);
});
