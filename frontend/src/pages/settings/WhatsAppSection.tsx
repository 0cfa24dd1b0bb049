// WhatsApp numbers over GraphQL (settings.channels and the channel mutations). Secrets are
// write-only: the fields start empty, a blank field keeps the stored value, and only the last
// four characters are ever shown. Meta's reason for refusing a token is shown as Meta gave it.
import { useEffect, useState } from "react";
import { useMutation, useQuery } from "urql";
import { Badge, Button, Card, EmptyState, Modal, SkeletonLines } from "../../components/ui";
import { useToast } from "../../components/toast";
import type {
  ChannelFieldsFragment as Channel,
  ConnectChannelMutation as ConnectData, ConnectChannelMutationVariables,
  DisconnectChannelMutation as DisconnectData, DisconnectChannelMutationVariables,
  RotateChannelAppSecretMutation as RotateData, RotateChannelAppSecretMutationVariables,
  UpdateChannelMutation as UpdateData, UpdateChannelMutationVariables,
  WhatsAppChannelsQuery as ChannelsData,
} from "../../gql/generated";
import { relativeTime } from "../../lib/format";
import { channelFailure } from "../../lib/results";
import { maskedSecret, secretToSend } from "../../lib/settingsForm";
import {
  ConnectChannelMutation, DisconnectChannelMutation, RotateChannelAppSecretMutation, UpdateChannelMutation, WhatsAppChannelsQuery,
} from "./operations";

/** Await a channel mutation and throw its failure, so the forms below report it in one place. */
async function expectChannel(
  run: Promise<{ error?: { message: string }; data?: object }>,
  field: "connectChannel" | "updateChannel" | "rotateChannelAppSecret" | "disconnectChannel",
): Promise<void> {
  const r = await run;
  const answer = (r.data as Record<string, Parameters<typeof channelFailure>[0]> | undefined)?.[field];
  const failure = r.error ? r.error.message : channelFailure(answer);
  if (failure) throw new Error(failure);
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
  const [form, setForm] = useState({ name: "", phoneNumberId: "", wabaId: "", accessToken: "", appSecret: "", verifyToken: "" });
  const [busy, setBusy] = useState(false);
  const [, connect] = useMutation<ConnectData, ConnectChannelMutationVariables>(ConnectChannelMutation);
  const set = (patch: Partial<typeof form>) => setForm((f) => ({ ...f, ...patch }));
  async function submit() {
    setBusy(true);
    try {
      await expectChannel(connect({ input: { ...form, name: form.name || null } }), "connectChannel");
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
        <label className="field">Phone number id<input className="input mono" required pattern="\d{5,32}" value={form.phoneNumberId} onChange={(e) => set({ phoneNumberId: e.target.value })} /></label>
        <label className="field">WhatsApp Business account id<input className="input mono" required pattern="\d{5,32}" value={form.wabaId} onChange={(e) => set({ wabaId: e.target.value })} /></label>
        <SecretInput label="Access token" value={form.accessToken} onChange={(v) => set({ accessToken: v })} />
        <SecretInput label="App secret" value={form.appSecret} onChange={(v) => set({ appSecret: v })} />
        <SecretInput label="Verify token" value={form.verifyToken} onChange={(v) => set({ verifyToken: v })} />
        <p className="small muted" style={{ margin: 0 }}>Secrets are stored encrypted and never shown again, only their last four characters.</p>
        <div className="row" style={{ justifyContent: "flex-end", gap: 8 }}>
          <Button type="button" onClick={onCancel}>Cancel</Button>
          <Button type="submit" variant="primary" busy={busy}>Connect</Button>
        </div>
      </form>
    </Modal>
  );
}

function ChannelCard({ channel, canEdit, onChanged }: { channel: Channel; canEdit: boolean; onChanged: () => void }) {
  const toast = useToast();
  const [, update] = useMutation<UpdateData, UpdateChannelMutationVariables>(UpdateChannelMutation);
  const [, rotate] = useMutation<RotateData, RotateChannelAppSecretMutationVariables>(RotateChannelAppSecretMutation);
  const [, disconnect] = useMutation<DisconnectData, DisconnectChannelMutationVariables>(DisconnectChannelMutation);
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

  const tokens = { accessToken: secretToSend(accessToken), verifyToken: secretToSend(verifyToken) };
  return (
    <Card>
      <div className="col" style={{ gap: 12 }} data-testid="channel">
        <div className="row" style={{ gap: 8, flexWrap: "wrap" }}>
          <h3 className="grow">{channel.name ?? channel.displayPhoneNumber ?? channel.phoneNumberId}</h3>
          {channel.isConnected ? <Badge tone="ok">Connected</Badge> : <Badge tone="danger">Disconnected</Badge>}
          {channel.pausedReason ? <Badge tone="warn">Paused: {channel.pausedReason}</Badge> : null}
        </div>
        <dl className="kv">
          <dt>Number</dt><dd>{channel.displayPhoneNumber ?? "—"}</dd>
          <dt>Phone number id</dt><dd className="mono">{channel.phoneNumberId}</dd>
          <dt>Business account</dt><dd className="mono">{channel.wabaId}</dd>
          <dt>Graph API</dt><dd>{channel.graphVersion} · {channel.messagesPerSecond} msg/s</dd>
          <dt>Access token</dt><dd className="secret" data-testid="secret-access">{maskedSecret(channel.accessTokenLast4)}</dd>
          <dt>App secret</dt><dd className="secret">{maskedSecret(channel.appSecretLast4)}{channel.appSecretsActive > 1 ? " (previous one still accepted)" : ""}</dd>
          <dt>Verify token</dt><dd className="secret">{maskedSecret(channel.verifyTokenLast4)}</dd>
          <dt>Changed</dt><dd>{relativeTime(channel.updatedAt)}</dd>
        </dl>
        {canEdit && channel.isConnected ? (
          <>
            <form className="col" style={{ gap: 8 }} onSubmit={(e) => {
              e.preventDefault();
              if (!tokens.accessToken && !tokens.verifyToken) return;
              void run("tokens", async () => {
                await expectChannel(update({ id: channel.id, input: tokens }), "updateChannel");
                setAccessToken("");
                setVerifyToken("");
              }, "Credentials replaced.");
            }}>
              <div className="settings-grid">
                <SecretInput label="New access token" value={accessToken} onChange={setAccessToken} last4={channel.accessTokenLast4} />
                <SecretInput label="New verify token" value={verifyToken} onChange={setVerifyToken} last4={channel.verifyTokenLast4} />
              </div>
              <div><Button type="submit" size="sm" busy={busy === "tokens"} disabled={!tokens.accessToken && !tokens.verifyToken}>Replace tokens</Button></div>
            </form>
            <form className="col" style={{ gap: 8 }} onSubmit={(e) => {
              e.preventDefault();
              const secret = secretToSend(appSecret);
              if (!secret) return;
              void run("secret", async () => {
                await expectChannel(rotate({ id: channel.id, appSecret: secret, keepPrevious: true }), "rotateChannelAppSecret");
                setAppSecret("");
              }, "App secret rotated; the previous one stays accepted until the next rotation.");
            }}>
              <SecretInput label="New app secret" value={appSecret} onChange={setAppSecret} last4={channel.appSecretLast4} />
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
              await expectChannel(disconnect({ id: channel.id }), "disconnectChannel");
              setConfirmDisconnect(false);
            }, "Number disconnected.")}>Disconnect</Button>
          </div>
        </Modal>
      ) : null}
    </Card>
  );
}

export function WhatsAppSection({ canEdit }: { canEdit: boolean }) {
  const toast = useToast();
  const [connecting, setConnecting] = useState(false);
  const [{ data, fetching, error }, refetch] = useQuery<ChannelsData>({ query: WhatsAppChannelsQuery, requestPolicy: "cache-and-network" });
  useEffect(() => {
    if (error) toast.error(`Could not load the numbers: ${error.message}`);
  }, [error, toast]);
  const channels = data?.settings.channels;
  const changed = () => refetch({ requestPolicy: "network-only" });
  return (
    <div className="col" style={{ gap: 16 }} data-testid="settings-whatsapp">
      <div className="row">
        <h2 className="grow">WhatsApp numbers</h2>
        {canEdit ? <Button variant="primary" onClick={() => setConnecting(true)}>Connect a number</Button> : null}
      </div>
      {fetching && !channels ? <Card><SkeletonLines lines={5} /></Card> : error && !channels ? (
        <Card><EmptyState icon="alert" title="Could not load the numbers">{error.message}</EmptyState></Card>
      ) : !channels?.length ? (
        <Card><EmptyState icon="phone" title="No number connected">Connect your WhatsApp Business number with its Meta credentials.</EmptyState></Card>
      ) : channels.map((c) => <ChannelCard key={c.id} channel={c} canEdit={canEdit} onChanged={changed} />)}
      {connecting ? <ConnectForm onCancel={() => setConnecting(false)} onDone={() => { setConnecting(false); changed(); }} /> : null}
    </div>
  );
}
