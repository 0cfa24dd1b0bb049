// WhatsApp numbers (REST /settings/whatsapp/channels; GraphQL has no channel mutations). Secrets
// are write-only: the fields start empty, a blank field keeps the stored value, and only the
// last four characters are ever shown.
import { useState } from "react";
import { Badge, Button, Card, EmptyState, Modal, SkeletonLines } from "../../components/ui";
import { useToast } from "../../components/toast";
import { api } from "../../lib/auth";
import { relativeTime } from "../../lib/format";
import { maskedSecret, secretToSend } from "../../lib/settingsForm";

export interface ChannelRead {
  id: string;
  name: string | null;
  phone_number_id: string;
  waba_id: string;
  display_phone_number: string | null;
  graph_version: string;
  is_connected: boolean;
  paused_reason: string | null;
  access_token_last4: string;
  app_secret_last4: string;
  app_secrets_active: number;
  verify_token_last4: string;
  messages_per_second: number;
  updated_at: string;
}

function SecretInput({ label, value, onChange, last4 }: { label: string; value: string; onChange: (v: string) => void; last4?: string }) {
  return (
    <label className="field">{label}{last4 !== undefined ? <span className="small secret">current {maskedSecret(last4)}</span> : null}
      <input className="input mono" type="password" autoComplete="new-password" value={value} placeholder={last4 !== undefined ? "Leave empty to keep" : ""} onChange={(e) => onChange(e.target.value)} />
    </label>
  );
}

function ConnectForm({ onDone, onCancel }: { onDone: () => void; onCancel: () => void }) {
  const toast = useToast();
  const [form, setForm] = useState({ name: "", phone_number_id: "", waba_id: "", access_token: "", app_secret: "", verify_token: "" });
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<typeof form>) => setForm((f) => ({ ...f, ...patch }));
  async function submit() {
    setBusy(true);
    try {
      await api("/settings/whatsapp/channels", { method: "POST", json: { ...form, name: form.name || null } });
      toast.success("Number connected.");
      onDone();
    } catch (e) {
      toast.error(`Could not connect: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal title="Connect a WhatsApp number" onClose={onCancel}>
      <form className="col" style={{ gap: 10 }} onSubmit={(e) => { e.preventDefault(); void submit(); }}>
        <label className="field">Name (optional)<input className="input" value={form.name} onChange={(e) => set({ name: e.target.value })} /></label>
        <label className="field">Phone number id<input className="input mono" required pattern="\d{5,32}" value={form.phone_number_id} onChange={(e) => set({ phone_number_id: e.target.value })} /></label>
        <label className="field">WhatsApp Business account id<input className="input mono" required pattern="\d{5,32}" value={form.waba_id} onChange={(e) => set({ waba_id: e.target.value })} /></label>
        <SecretInput label="Access token" value={form.access_token} onChange={(v) => set({ access_token: v })} />
        <SecretInput label="App secret" value={form.app_secret} onChange={(v) => set({ app_secret: v })} />
        <SecretInput label="Verify token" value={form.verify_token} onChange={(v) => set({ verify_token: v })} />
        <p className="small muted" style={{ margin: 0 }}>Secrets are stored encrypted and never shown again, only their last four characters.</p>
        <div className="row" style={{ justifyContent: "flex-end", gap: 8 }}>
          <Button type="button" onClick={onCancel}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>Connect</Button>
        </div>
      </form>
    </Modal>
  );
}

function ChannelCard({ channel, canEdit, onChanged }: { channel: ChannelRead; canEdit: boolean; onChanged: () => void }) {
  const toast = useToast();
  const [accessToken, setAccessToken] = useState("");
  const [verifyToken, setVerifyToken] = useState("");
  const [appSecret, setAppSecret] = useState("");
  const [busy, setBusy] = useState<string | null>(null);
  const [confirmDisconnect, setConfirmDisconnect] = useState(false);

  async function run(key: string, action: () => Promise<unknown>, done: string) {
    setBusy(key);
    try {
      await action();
      toast.success(done);
      onChanged();
    } catch (e) {
      toast.error(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(null);
    }
  }

  const tokens = { access_token: secretToSend(accessToken), verify_token: secretToSend(verifyToken) };
  return (
    <Card>
      <div className="col" style={{ gap: 12 }} data-testid="channel">
        <div className="row" style={{ gap: 8, flexWrap: "wrap" }}>
          <h3 className="grow">{channel.name ?? channel.display_phone_number ?? channel.phone_number_id}</h3>
          {channel.is_connected ? <Badge tone="ok">Connected</Badge> : <Badge tone="danger">Disconnected</Badge>}
          {channel.paused_reason ? <Badge tone="warn">Paused: {channel.paused_reason}</Badge> : null}
        </div>
        <dl className="kv">
          <dt>Number</dt><dd>{channel.display_phone_number ?? "—"}</dd>
          <dt>Phone number id</dt><dd className="mono">{channel.phone_number_id}</dd>
          <dt>Business account</dt><dd className="mono">{channel.waba_id}</dd>
          <dt>Graph API</dt><dd>{channel.graph_version} · {channel.messages_per_second} msg/s</dd>
          <dt>Access token</dt><dd className="secret" data-testid="secret-access">{maskedSecret(channel.access_token_last4)}</dd>
          <dt>App secret</dt><dd className="secret">{maskedSecret(channel.app_secret_last4)}{channel.app_secrets_active > 1 ? " (previous one still accepted)" : ""}</dd>
          <dt>Verify token</dt><dd className="secret">{maskedSecret(channel.verify_token_last4)}</dd>
          <dt>Changed</dt><dd>{relativeTime(channel.updated_at)}</dd>
        </dl>
        {canEdit && channel.is_connected ? (
          <>
            <form className="col" style={{ gap: 8 }} onSubmit={(e) => {
              e.preventDefault();
              if (!tokens.access_token && !tokens.verify_token) return;
              void run("tokens", async () => {
                await api(`/settings/whatsapp/channels/${channel.id}`, { method: "PATCH", json: tokens });
                setAccessToken("");
                setVerifyToken("");
              }, "Credentials replaced.");
            }}>
              <div className="settings-grid">
                <SecretInput label="New access token" value={accessToken} onChange={setAccessToken} last4={channel.access_token_last4} />
                <SecretInput label="New verify token" value={verifyToken} onChange={setVerifyToken} last4={channel.verify_token_last4} />
              </div>
              <div><Button type="submit" size="sm" busy={busy === "tokens"} disabled={!tokens.access_token && !tokens.verify_token}>Replace tokens</Button></div>
            </form>
            <form className="col" style={{ gap: 8 }} onSubmit={(e) => {
              e.preventDefault();
              const secret = secretToSend(appSecret);
              if (!secret) return;
              void run("secret", async () => {
                await api(`/settings/whatsapp/channels/${channel.id}/app-secret`, { method: "POST", json: { app_secret: secret, keep_previous: true } });
                setAppSecret("");
              }, "App secret rotated; the previous one stays accepted until the next rotation.");
            }}>
              <SecretInput label="New app secret" value={appSecret} onChange={setAppSecret} last4={channel.app_secret_last4} />
              <div className="row" style={{ gap: 8 }}>
                <Button type="submit" size="sm" busy={busy === "secret"} disabled={!secretToSend(appSecret)}>Rotate app secret</Button>
                <span className="grow" />
                <Button type="button" size="sm" variant="danger" onClick={() => setConfirmDisconnect(true)}>Disconnect</Button>
              </div>
            </form>
          </>
        ) : null}
      </div>
      {confirmDisconnect ? (
        <Modal title="Disconnect this number?" onClose={() => setConfirmDisconnect(false)}>
          <p>The bot stops answering on it. Its conversations and messages are kept.</p>
          <div className="row" style={{ justifyContent: "flex-end", gap: 8 }}>
            <Button onClick={() => setConfirmDisconnect(false)}>Cancel</Button>
            <Button variant="danger" busy={busy === "disconnect"} onClick={() => void run("disconnect", async () => {
              await api(`/settings/whatsapp/channels/${channel.id}/disconnect`, { method: "POST" });
              setConfirmDisconnect(false);
            }, "Number disconnected.")}>Disconnect</Button>
          </div>
        </Modal>
      ) : null}
    </Card>
  );
}

export function WhatsAppSection({ channels, loading, error, canEdit, onChanged }: { channels: ChannelRead[] | null; loading: boolean; error: string | null; canEdit: boolean; onChanged: () => void }) {
  const [connecting, setConnecting] = useState(false);
  return (
    <div className="col" style={{ gap: 16 }} data-testid="settings-whatsapp">
      <div className="row">
        <h2 className="grow">WhatsApp numbers</h2>
        {canEdit ? <Button variant="primary" onClick={() => setConnecting(true)}>Connect a number</Button> : null}
      </div>
      {loading && !channels ? <Card><SkeletonLines lines={5} /></Card> : error && !channels ? (
        <Card><EmptyState icon="alert" title="Could not load the numbers">{error}</EmptyState></Card>
      ) : !channels?.length ? (
        <Card><EmptyState icon="phone" title="No number connected">Connect your WhatsApp Business number with its Meta credentials.</EmptyState></Card>
      ) : channels.map((c) => <ChannelCard key={c.id} channel={c} canEdit={canEdit} onChanged={onChanged} />)}
      {connecting ? <ConnectForm onCancel={() => setConnecting(false)} onDone={() => { setConnecting(false); onChanged(); }} /> : null}
    </div>
  );
}
