// Settings: the organisation, the bot (persona, flow, handoff), hours and follow-ups, LLM
// models, WhatsApp numbers (secrets write-only), users and roles, quick replies. Admins edit;
// others read.
import { useEffect, useMemo } from "react";
import { NavLink, useParams } from "react-router-dom";
import { useQuery } from "urql";
import { Card, EmptyState, SkeletonLines } from "../../components/ui";
import { useToast } from "../../components/toast";
import type { SettingsPageQuery as SettingsData } from "../../gql/generated";
import { useSession } from "../../lib/session";
import { BotSection, FollowupSection, HoursSection, LinksSection, ModelsSection, ProfileSection } from "./BotSections";
import { SettingsPageQuery } from "./operations";
import { QuickRepliesSection } from "./QuickRepliesSection";
import { UsersSection } from "./UsersSection";
import { WhatsAppSection } from "./WhatsAppSection";
import "./settings.css";

const TABS = [
  { key: "general", label: "General" },
  { key: "bot", label: "Bot" },
  { key: "hours", label: "Hours & follow-ups" },
  { key: "models", label: "Models" },
  { key: "whatsapp", label: "WhatsApp" },
  { key: "users", label: "Users & roles" },
  { key: "quick-replies", label: "Quick replies" },
];

function timezones(): string[] {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  try {
    return intl.supportedValuesOf?.("timeZone") ?? ["UTC"];
  } catch {
    return ["UTC"];
  }
}

export default function SettingsPage() {
  const params = useParams();
  const tab = TABS.some((t) => t.key === params["*"]) ? params["*"]! : "general";
  const toast = useToast();
  const { can } = useSession();
  const admin = can("ADMIN");
  const zones = useMemo(timezones, []);
  const [{ data, fetching, error }, refetch] = useQuery<SettingsData>({ query: SettingsPageQuery, requestPolicy: "cache-and-network" });
  useEffect(() => {
    if (error) toast.error(`Could not load settings: ${error.message}`);
  }, [error, toast]);
  const reload = () => refetch({ requestPolicy: "network-only" });
  const settings = data?.settings;

  let body: React.ReactNode;
  if (tab === "users") body = <UsersSection />;
  else if (tab === "quick-replies") body = <QuickRepliesSection canEdit={admin} />;
  else if (tab === "whatsapp") body = <WhatsAppSection canEdit={admin} />;
  else if (!settings) {
    body = fetching || !error ? <Card><SkeletonLines lines={6} /></Card> : <Card><EmptyState icon="alert" title="Could not load settings">{error.message}</EmptyState></Card>;
  } else if (tab === "bot") {
    body = (
      <>
        <BotSection settings={settings} canEdit={admin} onSaved={reload} />
        <LinksSection settings={settings} canEdit={admin} onSaved={reload} />
      </>
    );
  } else if (tab === "hours") {
    body = (
      <>
        <HoursSection settings={settings} canEdit={admin} onSaved={reload} />
        <FollowupSection settings={settings} canEdit={admin} onSaved={reload} />
      </>
    );
  } else if (tab === "models") body = <ModelsSection settings={settings} canEdit={admin} onSaved={reload} />;
  else body = <ProfileSection settings={settings} slug={data?.organisation.slug ?? ""} canEdit={admin} zones={zones} onSaved={reload} />;

  return (
    <div className="page">
      <div className="page-head"><h1 className="grow">Settings</h1></div>
      <nav className="settings-tabs chips" aria-label="Settings sections">
        {TABS.map((t) => (
          <NavLink key={t.key} to={`/settings/${t.key}`} className={() => `chip ${tab === t.key ? "on" : ""}`} aria-current={tab === t.key ? "page" : undefined}>{t.label}</NavLink>
        ))}
      </nav>
      {!admin ? <p className="small muted" style={{ marginTop: 0 }}>Only admins change settings; you can read them.</p> : null}
      <div className="settings-body">{body}</div>
    </div>
  );
}
