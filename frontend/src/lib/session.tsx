// Who is signed in: tokens (from auth.ts) plus the viewer (role, organisation) from GraphQL.
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { useQuery } from "urql";
import { ViewerQuery } from "../gql/operations";
import type { ViewerQuery as ViewerData } from "../gql/generated";
import { atLeast, loadTokens, onTokens, type Role, type Tokens } from "./auth";

interface Session {
  tokens: Tokens | null;
  viewer: ViewerData["me"] | null;
  role: Role | null;
  loading: boolean;
  can: (needed: Role) => boolean;
}

const Ctx = createContext<Session>({ tokens: null, viewer: null, role: null, loading: false, can: () => false });

export function useTokens(): Tokens | null {
  const [tokens, setTokens] = useState(loadTokens);
  useEffect(() => onTokens(setTokens), []);
  return tokens;
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const tokens = useTokens();
  const [{ data, fetching }] = useQuery<ViewerData>({ query: ViewerQuery, pause: !tokens, requestPolicy: "network-only" });
  const viewer = tokens ? data?.me ?? null : null;
  // The membership's current role (re-read by the API on every request) wins over the token's.
  const role = (viewer?.role as Role | undefined) ?? tokens?.role ?? null;
  const value = useMemo<Session>(
    () => ({ tokens, viewer, role, loading: !!tokens && fetching && !viewer, can: (needed) => atLeast(role, needed) }),
    [tokens, viewer, role, fetching],
  );
  return <Ctx.Provider value={value}>{children}</Ctx.Provider>;
}

export function useSession(): Session {
  return useContext(Ctx);
}
