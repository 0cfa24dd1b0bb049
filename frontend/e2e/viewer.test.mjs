import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { BASE, customerSays, launch, newCustomer, ownerApi, shot, signIn } from "./support.mjs";

let browser;
const suffix = Date.now().toString(36);
const viewer = { email: `viewer-${suffix}@example.com`, password: `viewer-pass-${suffix}` };

before(async () => {
  // A viewer, invited by the owner and accepted, as a real colleague would join.
  const invitation = await ownerApi("/users/invitations", { method: "POST", json: { email: viewer.email, role: "viewer" } });
  const token = invitation.accept_token ?? invitation.token;
  assert.ok(token, "the invitation returns its token once");
  browser = await launch();
  const { page } = browser;
  await page.goto(`${BASE}/app/invitation?token=${encodeURIComponent(token)}`);
  await page.getByLabel("Your name").fill("Vera Viewer");
  await page.getByLabel("Password").fill(viewer.password);
  await page.getByRole("button", { name: "Accept invitation" }).click();
  await page.waitForURL(/\/app\/inbox/);
  await customerSays(newCustomer(), "just browsing", "Viewer Check");
});
after(async () => { await browser?.close(); });

test("a viewer sees conversations but no edit controls", async () => {
  const { page } = browser;
  await page.getByTestId("role").filter({ hasText: "Viewer" }).waitFor();
  assert.equal(await page.getByRole("link", { name: "Try it" }).count(), 0);
  await page.getByTestId("conversation-item").first().click();
  await page.getByTestId("conversation-view").waitFor();
  await page.getByTestId("composer-readonly").waitFor();
  assert.equal(await page.getByTestId("takeover").count(), 0);
  assert.equal(await page.getByTestId("release").count(), 0);
  assert.equal(await page.getByTestId("composer-input").count(), 0);
  assert.equal(await page.getByRole("button", { name: "Close", exact: true }).count(), 0);
  await shot(page, "inbox-viewer");
  // The route is not there either.
  await page.goto(`${BASE}/app/simulator`);
  await page.waitForURL(/\/app\/dashboard/);
});

test("a viewer changes the password on the account page and signs in with the new one", async () => {
  const { page } = browser;
  const renewed = `${viewer.password}-renewed`;
  await page.goto(`${BASE}/app/account`);
  await page.getByLabel("Current password").fill(viewer.password);
  await page.getByLabel("New password", { exact: true }).fill(renewed);
  await page.getByLabel("Repeat the new password").fill(renewed);
  await page.getByRole("button", { name: "Change password" }).click();
  await page.getByTestId("toast").filter({ hasText: "Password changed" }).waitFor();
  await shot(page, "account");
  await signIn(page, { email: viewer.email, password: renewed });
  await page.getByTestId("role").filter({ hasText: "Viewer" }).waitFor();
});
