import { Suspense, useEffect, useState } from "react";
import { BrowserRouter, Navigate, NavLink, Route, Routes, useLocation, useNavigate } from "react-router-dom";
import { ErrorBoundary } from "./components/ErrorBoundary";
import { Icon } from "./components/icons";
import { SkeletonLines } from "./components/ui";
import { logout } from "./lib/auth";
import { onConnection, onReconnect } from "./lib/client";
import { useQuery, useSubscription } from "urql";
import { AttentionSubscription, InboxQuery } from "./gql/operations";
import type { InboxQuery as InboxData, InboxQueryVariables } from "./gql/generated";
import { useDebounced } from "./lib/live";
import { useSession } from "./lib/session";
import { linkOf, PAGES } from "./pages/registry";
import LoginPage from "./pages/login/LoginPage";
import AcceptInvitationPage from "./pages/login/AcceptInvitationPage";
import { titleCase } from "./lib/format";

function PageFallback() {
  return (
    <div className="page">
      <SkeletonLines lines={6} />
    </div>
  );
}

function ConnectionDot() {
  const [connected, setConnected] = useState<boolean | null>(null);
  useEffect(() => onConnection(setConnected), []);
  if (connected === null) return null;
  return (
    <span className="conn" title={connected ? "Live updates on" : "Reconnecting…"} data-testid="live-status">
      <span className={`dot ${connected ? "on" : "off"}`} /> {connected ? "Live" : "Reconnecting"}
    </span>
  );
}

/** Conversations waiting for a person, live: the Inbox's badge in the nav. */
function useAttentionCount(): number | null {
  const [{ data }, refetch] = useQuery<InboxData, InboxQueryVariables>({
    query: InboxQuery,
    variables: { first: 50, filter: { needsAttention: true } },
  });
  const reload = useDebounced(() => refetch({ requestPolicy: "network-only" }), 500);
  useSubscription({ query: AttentionSubscription }, (_, e) => (reload(), e));
  useEffect(() => onReconnect(reload), [reload]);
  return data ? data.conversations.edges.length : null;
}

function Shell() {
  const attention = useAttentionCount();
  const { viewer, role, can } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [location.pathname]);
  const visible = PAGES.filter((p) => !p.hidden && (!p.minRole || can(p.minRole)));
  return (
    <div className="shell">
      <header className="topbar">
        <button className="btn sm" onClick={() => setMenuOpen((o) => !o)} aria-label="Menu"><Icon name="menu" /></button>
        <strong>Funnel</strong>
        <span className="spacer" />
        <ConnectionDot />
      </header>
      <nav className={`sidebar ${menuOpen ? "open" : ""}`} aria-label="Main">
        <div className="brand">
          <svg width="22" height="22" viewBox="0 0 32 32" aria-hidden><path d="M4 5h24l-9 11v9l-6 3V16z" fill="#2dd4bf" /></svg>
          Funnel
        </div>
        {visible.map((p) => (
          <NavLink key={p.path} to={linkOf(p.path)} className={({ isActive }) => `nav-link ${isActive ? "active" : ""}`}>
            <Icon name={p.icon} /> {p.label}
            {p.path === "/inbox/*" && attention ? <span className="badge warn" title="Waiting for a person" data-testid="nav-attention">{attention >= 50 ? "50+" : attention}</span> : null}
          </NavLink>
        ))}
        <div className="sidebar-foot">
          <ConnectionDot />
          <span className="who" data-testid="who">{viewer?.user.name ?? "…"}</span>
          <span>
            {viewer?.organisation.name ?? ""} · <span data-testid="role">{role ? titleCase(role) : ""}</span>
          </span>
          <div className="row">
            <NavLink to="/account" className="nav-link" style={{ padding: "4px 0" }}>Account</NavLink>
            <button
              className="btn sm ghost"
              style={{ color: "#d0d5dd" }}
              onClick={async () => {
                await logout();
                navigate("/login");
              }}
            >
              Sign out
            </button>
          </div>
        </div>
      </nav>
      <main className="main">
        <Routes>
          {PAGES.filter((p) => !p.minRole || can(p.minRole)).map((p) => {
            const Page = p.component;
            return (
              <Route
                key={p.path}
                path={p.path}
                element={
                  <ErrorBoundary name={p.label} key={p.path}>
                    <Suspense fallback={<PageFallback />}>
                      <Page />
                    </Suspense>
                  </ErrorBoundary>
                }
              />
            );
          })}
          <Route path="*" element={<Navigate to="/dashboard" replace />} />
        </Routes>
      </main>
    </div>
  );
}

function Gate() {
  const { tokens } = useSession();
  const location = useLocation();
  if (!tokens) return <Navigate to="/login" replace state={{ from: location.pathname }} />;
  return <Shell />;
}

export default function App() {
  return (
    <BrowserRouter basename="/app">
      <Routes>
        <Route path="/login" element={<ErrorBoundary name="Sign in"><LoginPage /></ErrorBoundary>} />
        <Route path="/invitation" element={<ErrorBoundary name="Invitation"><AcceptInvitationPage /></ErrorBoundary>} />
        <Route path="/*" element={<Gate />} />
      </Routes>
    </BrowserRouter>
  );
}
