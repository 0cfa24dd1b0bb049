// @vitest-environment jsdom
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

type AuthModule = typeof import("./auth");

/** An access token whose claims say it lives 15 minutes (only iat/exp are read). */
function jwt(name: string): string {
  const claims = btoa(JSON.stringify({ sub: name, iat: 1_000, exp: 1_900 }));
  return `header.${claims.replace(/=+$/, "")}.${name}`;
}

function pair(n: number) {
  return {
    access_token: jwt(`A${n}`),
    refresh_token: `R${n}`,
    expires_at: "2030-01-01T00:00:00Z",
    organisation_id: "org",
    role: "owner",
  };
}

/** The API: rotates R<n> to R<n+1> once (a second use is reuse: 401), accepts only the newest
 * access token, and counts refreshes. */
function fakeApi({ refreshStatus = 200 }: { refreshStatus?: number } = {}) {
  let generation = 1;
  const refreshes: string[] = [];
  const requests: string[] = [];
  const fetchMock = vi.fn(async (input: string, init: RequestInit = {}) => {
    if (input === "/auth/refresh") {
      const presented = JSON.parse(String(init.body)).refresh_token as string;
      refreshes.push(presented);
      await new Promise((r) => setTimeout(r, 5));
      if (refreshStatus !== 200) return new Response("{}", { status: refreshStatus });
      if (presented !== `R${generation}`) return new Response("{}", { status: 401 });
      generation += 1;
      return new Response(JSON.stringify(pair(generation)), { status: 200 });
    }
    const auth = new Headers(init.headers).get("Authorization");
    requests.push(auth ?? "");
    return new Response("{}", { status: auth === `Bearer ${jwt(`A${generation}`)}` ? 200 : 401 });
  });
  vi.stubGlobal("fetch", fetchMock);
  return { refreshes, requests };
}

/** A fresh copy of auth.ts: another tab of the same browser (same localStorage, same locks). */
async function tab(): Promise<AuthModule> {
  vi.resetModules();
  return import("./auth");
}

/** navigator.locks as browsers implement it for one exclusive lock name: strictly in turn. */
function installWebLocks() {
  let tail: Promise<unknown> = Promise.resolve();
  const locks = {
    request: (_name: string, task: () => Promise<unknown>) => {
      const run = tail.then(() => task());
      tail = run.catch(() => undefined);
      return run;
    },
  };
  Object.defineProperty(navigator, "locks", { value: locks, configurable: true });
}

beforeEach(() => {
  localStorage.clear();
});

afterEach(() => {
  vi.unstubAllGlobals();
  Object.defineProperty(navigator, "locks", { value: undefined, configurable: true });
});

describe("refreshing the session", () => {
  it("refreshes once when parallel requests are refused with an expired access token", async () => {
    const auth = await tab();
    const api = fakeApi();
    auth.saveTokens({ ...auth.fromPair(pair(1)), accessToken: "expired" });
    const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => auth.authedFetch(`/leads?page=${n}`)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    expect(api.refreshes).toEqual(["R1"]);
    expect(auth.loadTokens()?.refreshToken).toBe("R2");
  });

  it("uses tokens refreshed meanwhile instead of presenting the rotated refresh token", async () => {
    const auth = await tab();
    const api = fakeApi();
    auth.saveTokens(auth.fromPair(pair(1)));
    const refused = auth.loadTokens()!.accessToken;
    expect((await auth.refreshTokens(refused))?.refreshToken).toBe("R2");
    // A request sent with the old access token is answered 401 only now.
    expect((await auth.refreshTokens(refused))?.refreshToken).toBe("R2");
    expect(api.refreshes).toEqual(["R1"]);
  });

  it("refreshes once across tabs that share the tokens", async () => {
    installWebLocks();
    const first = await tab();
    const second = await tab();
    expect(first).not.toBe(second);
    const api = fakeApi();
    first.saveTokens(first.fromPair(pair(1)));
    const [a, b] = await Promise.all([first.refreshTokens(), second.refreshTokens()]);
    expect(api.refreshes).toEqual(["R1"]);
    expect(a?.refreshToken).toBe("R2");
    expect(b?.refreshToken).toBe("R2");
  });

  it("refreshes before the access token expires, not after a refusal", async () => {
    const auth = await tab();
    const api = fakeApi();
    auth.saveTokens({ ...auth.fromPair(pair(1)), refreshAfter: Date.now() - 1 });
    expect((await auth.authedFetch("/leads")).status).toBe(200);
    expect(api.refreshes).toEqual(["R1"]);
    expect(api.requests).toEqual([`Bearer ${jwt("A2")}`]);
  });

  it("keeps the session through a server error, ends it when the refresh is refused", async () => {
    const auth = await tab();
    fakeApi({ refreshStatus: 503 });
    auth.saveTokens(auth.fromPair(pair(1)));
    expect(await auth.refreshTokens()).toBeNull();
    expect(auth.loadTokens()?.refreshToken).toBe("R1");
    fakeApi({ refreshStatus: 401 });
    expect(await auth.refreshTokens()).toBeNull();
    expect(auth.loadTokens()).toBeNull();
  });

  it("schedules the early refresh from the token's own lifetime, not the browser's clock", async () => {
    const auth = await tab();
    const tokens = auth.fromPair(pair(1), 1_000_000);
    expect(tokens.refreshAfter).toBe(1_000_000 + 900_000 - 60_000);
    expect(auth.dueForRefresh(tokens, 1_000_000 + 800_000)).toBe(false);
    expect(auth.dueForRefresh(tokens, 1_000_000 + 840_000)).toBe(true);
  });
});
