// Session tokens and the one fetch wrapper every REST call goes through. The access token is
// short-lived (15 min): it is refreshed shortly before it expires, and a 401 triggers one refresh
// (rotating the refresh token) and a retry.
//
// Every refresh rotates the refresh token, and the server takes a rotated token presented again
// for a stolen one. So a refresh happens once however many ask for it: once per tab (a shared
// promise) and once per browser (a Web Lock, since tabs share the tokens in localStorage), and a
// caller whose token was refused after someone else refreshed just uses the new tokens.

export type Role = "OWNER" | "ADMIN" | "AGENT" | "VIEWER";

export interface Tokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: string;
  organisationId: string;
  role: Role;
  /** When (this browser's clock, ms) to refresh ahead of expiry; from the token's own lifetime,
   * so a browser clock set wrong does not make every request refresh. */
  refreshAfter?: number;
}

const KEY = "funnel.session";
type Listener = (tokens: Tokens | null) => void;
const listeners = new Set<Listener>();

export function loadTokens(): Tokens | null {
  try {
    const raw = localStorage.getItem(KEY);
    return raw ? (JSON.parse(raw) as Tokens) : null;
  } catch {
    return null;
  }
}

export function saveTokens(tokens: Tokens | null): void {
  if (tokens) localStorage.setItem(KEY, JSON.stringify(tokens));
  else localStorage.removeItem(KEY);
  listeners.forEach((l) => l(tokens));
}

export function onTokens(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

// Another tab refreshed, signed in or signed out: this tab follows.
if (typeof window !== "undefined") {
  window.addEventListener("storage", (event) => {
    if (event.key !== KEY && event.key !== null) return;
    const tokens = loadTokens();
    listeners.forEach((l) => l(tokens));
  });
}

interface TokenPairJson {
  access_token: string;
  refresh_token: string;
  expires_at: string;
  organisation_id: string;
  role: string;
}

/** Refresh this long before the access token expires (its lifetime is 15 minutes). */
const REFRESH_AHEAD_MS = 60_000;

/** The access token's lifetime in ms, from its own iat/exp claims (null if unreadable). */
function lifetimeMs(accessToken: string): number | null {
  try {
    const payload = accessToken.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(payload)) as { iat?: unknown; exp?: unknown };
    if (typeof claims.iat !== "number" || typeof claims.exp !== "number") return null;
    return (claims.exp - claims.iat) * 1000;
  } catch {
    return null;
  }
}

export function fromPair(pair: TokenPairJson, now: number = Date.now()): Tokens {
  const lifetime = lifetimeMs(pair.access_token);
  return {
    accessToken: pair.access_token,
    refreshToken: pair.refresh_token,
    expiresAt: pair.expires_at,
    organisationId: pair.organisation_id,
    role: pair.role.toUpperCase() as Role,
    refreshAfter: lifetime === null ? undefined : now + Math.max(lifetime - REFRESH_AHEAD_MS, lifetime / 2),
  };
}

/** Whether the access token is about to expire and is better refreshed before it is used. */
export function dueForRefresh(tokens: Tokens, now: number = Date.now()): boolean {
  if (tokens.refreshAfter !== undefined) return now >= tokens.refreshAfter;
  return Date.parse(tokens.expiresAt) - now < REFRESH_AHEAD_MS; // stored by an older version
}

export class ApiError extends Error {
  constructor(
    public status: number,
    message: string,
    public body: unknown = null,
  ) {
    super(message);
  }
}

/** The human-readable reason in one of the API's error bodies. */
export function errorMessage(body: unknown, fallback: string): string {
  if (body && typeof body === "object") {
    const b = body as Record<string, unknown>;
    if (typeof b.detail === "string") return b.detail;
    if (typeof b.message === "string") return b.message;
    if (b.error && typeof b.error === "object") {
      const e = b.error as Record<string, unknown>;
      if (typeof e.message === "string") return e.message;
    }
    if (Array.isArray(b.detail) && b.detail.length) {
      const first = b.detail[0] as Record<string, unknown>;
      if (typeof first.msg === "string") return first.msg;
    }
  }
  return fallback;
}

let refreshing: Promise<Tokens | null> | null = null;

/**
 * New tokens for the session, or null when there is none (any more).
 *
 * `refused` is the access token a caller saw refused (default: the stored one). When the stored
 * tokens are no longer those, another caller or tab has refreshed already, and they are returned
 * without asking the server: refreshing again would present a rotated refresh token.
 */
export function refreshTokens(refused?: string): Promise<Tokens | null> {
  if (refreshing) return refreshing;
  const seen = refused ?? loadTokens()?.accessToken;
  refreshing = acrossTabs(() => exchange(seen)).finally(() => {
    refreshing = null;
  });
  return refreshing;
}

/** Run `task` holding the browser-wide refresh lock (where Web Locks exist). */
function acrossTabs<T>(task: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  if (!locks) return task();
  return locks.request("funnel.session.refresh", task) as Promise<T>;
}

async function exchange(seen: string | undefined): Promise<Tokens | null> {
  const current = loadTokens();
  if (!current) return null;
  if (current.accessToken !== seen) return current;
  let response: Response;
  try {
    response = await fetch("/auth/refresh", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ refresh_token: current.refreshToken }),
    });
  } catch {
    return null; // offline: the session is not lost, the caller's request just fails
  }
  if (response.status === 401) {
    // The session is over (logged out, revoked, expired), unless the tokens changed meanwhile.
    if (loadTokens()?.refreshToken === current.refreshToken) saveTokens(null);
    return null;
  }
  if (!response.ok) return null; // a server error is not a lost session either
  const tokens = fromPair(await response.json());
  saveTokens(tokens);
  return tokens;
}

export function authHeader(): Record<string, string> {
  const tokens = loadTokens();
  return tokens ? { Authorization: `Bearer ${tokens.accessToken}` } : {};
}

/** The stored tokens, refreshed first when the access token is about to expire. */
export async function freshTokens(): Promise<Tokens | null> {
  const tokens = loadTokens();
  if (tokens && dueForRefresh(tokens)) return (await refreshTokens(tokens.accessToken)) ?? loadTokens();
  return tokens;
}

/** fetch with the session's bearer token, one refresh-and-retry on 401. */
export async function authedFetch(input: string, init: RequestInit = {}): Promise<Response> {
  const run = (tokens: Tokens | null) =>
    fetch(input, {
      ...init,
      headers: { ...(init.headers ?? {}), ...(tokens ? { Authorization: `Bearer ${tokens.accessToken}` } : {}) },
    });
  const tokens = await freshTokens();
  let response = await run(tokens);
  if (response.status === 401 && tokens) {
    const refreshed = await refreshTokens(tokens.accessToken);
    if (refreshed) response = await run(refreshed);
  }
  return response;
}

/** JSON REST call; throws ApiError with the server's reason on a non-2xx answer. */
export async function api<T>(path: string, init: RequestInit & { json?: unknown } = {}): Promise<T> {
  const { json, ...rest } = init;
  const response = await authedFetch(path, {
    ...rest,
    headers: { ...(json !== undefined ? { "Content-Type": "application/json" } : {}), ...(rest.headers ?? {}) },
    body: json !== undefined ? JSON.stringify(json) : rest.body,
  });
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (!response.ok) throw new ApiError(response.status, errorMessage(body, `HTTP ${response.status}`), body);
  return body as T;
}

export async function login(email: string, password: string): Promise<Tokens> {
  const response = await fetch("/auth/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 429) throw new ApiError(429, "Too many attempts. Try again in a few minutes.", body);
    if (response.status === 401) throw new ApiError(401, "That email and password do not match.", body);
    throw new ApiError(response.status, errorMessage(body, "Could not sign in."), body);
  }
  const tokens = fromPair(body as TokenPairJson);
  saveTokens(tokens);
  return tokens;
}

export async function logout(): Promise<void> {
  try {
    await authedFetch("/auth/logout", { method: "POST" });
  } finally {
    saveTokens(null);
  }
}

export const ROLE_RANK: Record<Role, number> = { VIEWER: 0, AGENT: 1, ADMIN: 2, OWNER: 3 };

export function atLeast(role: Role | null | undefined, needed: Role): boolean {
  return role != null && ROLE_RANK[role] >= ROLE_RANK[needed];
}
