// Every page of the signed-in app, in nav order. A page lives in its own folder under pages/;
// adding one means a folder and one entry here (the router and the nav both read this list).
import { lazy, type ComponentType, type LazyExoticComponent } from "react";
import type { Role } from "../lib/auth";
import type { IconName } from "../components/icons";

export interface PageEntry {
  path: string;
  label: string;
  icon: IconName;
  /** The lowest role that sees the page (viewer by default). */
  minRole?: Role;
  /** Hidden from the nav (reached by links). */
  hidden?: boolean;
  component: LazyExoticComponent<ComponentType>;
}

export const PAGES: PageEntry[] = [
  { path: "/dashboard", label: "Dashboard", icon: "dashboard", component: lazy(() => import("./dashboard/DashboardPage")) },
  { path: "/inbox/*", label: "Inbox", icon: "chat", component: lazy(() => import("./inbox/InboxPage")) },
  { path: "/simulator", label: "Try it", icon: "phone", minRole: "ADMIN", component: lazy(() => import("./simulator/SimulatorPage")) },
  { path: "/leads/*", label: "Leads", icon: "user", component: lazy(() => import("./leads/LeadsPage")) },
  { path: "/templates/*", label: "Templates", icon: "file", component: lazy(() => import("./templates/TemplatesPage")) },
  { path: "/ctas", label: "CTAs", icon: "pointer", component: lazy(() => import("./ctas/CtasPage")) },
  { path: "/followups", label: "Follow-ups", icon: "clock", component: lazy(() => import("./followups/FollowupsPage")) },
  { path: "/knowledge", label: "Knowledge", icon: "search", component: lazy(() => import("./knowledge/KnowledgePage")) },
  { path: "/analytics", label: "Analytics", icon: "activity", component: lazy(() => import("./analytics/AnalyticsPage")) },
  { path: "/settings/*", label: "Settings", icon: "lock", component: lazy(() => import("./settings/SettingsPage")) },
  { path: "/account", label: "Account", icon: "user", hidden: true, component: lazy(() => import("./account/AccountPage")) },
];

/** The link target for a route pattern ("/inbox/*" → "/inbox"). */
export function linkOf(path: string): string {
  return path.replace(/\/\*$/, "");
}
