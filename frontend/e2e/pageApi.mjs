// REST from inside a signed-in page, with that page's own access token: checks and set-up
// without another login (logins are rate-limited per address, and every spec shares one).

/** The page's session (the dashboard keeps it in localStorage). */
export async function pageTokens(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem("funnel.session") ?? "null"));
}

/** A REST call as the page's user; the parsed JSON body (throws on a non-2xx answer). */
export async function pageApi(page, pathname, { method = "GET", json } = {}) {
  const result = await page.evaluate(async ({ pathname, method, json }) => {
    const session = JSON.parse(localStorage.getItem("funnel.session") ?? "null");
    const response = await fetch(pathname, {
      method,
      headers: { Authorization: `Bearer ${session?.accessToken}`, ...(json ? { "Content-Type": "application/json" } : {}) },
      body: json ? JSON.stringify(json) : undefined,
    });
    return { ok: response.ok, status: response.status, text: await response.text() };
  }, { pathname, method, json });
  if (!result.ok) throw new Error(`${method} ${pathname}: ${result.status} ${result.text}`);
  return result.text ? JSON.parse(result.text) : null;
}

/** Wait for a locator; on a timeout, fail with what the page shows instead. */
export async function visible(page, locator, timeout) {
  try {
    await locator.waitFor(timeout ? { timeout } : undefined);
  } catch (error) {
    const shown = await page.locator("main").innerText().catch(() => "(no main)");
    throw new Error(`${error.message}\nURL: ${page.url()}\nThe page shows:\n${shown.slice(0, 1500)}`);
  }
}
