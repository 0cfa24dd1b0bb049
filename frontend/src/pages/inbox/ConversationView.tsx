import { Fragment, useEffect, useLayoutEffect, useRef, useState } from "react";
import { Link } from "react-router-dom";
import { useMutation, useQuery, useSubscription } from "urql";
import { Avatar, Badge, Button, EmptyState, Skeleton } from "../../components/ui";
import { Icon, type IconName } from "../../components/icons";
import { useToast } from "../../components/toast";
import {
  AssignMutation, CloseMutation, ConversationQuery, ConversationUpdatedSubscription, MarkConversationReadMutation, MembersQuery,
  MessageCreatedSubscription, MessageStatusSubscription, ReleaseMutation, ResolveAttentionMutation, StartableSequencesQuery,
  StartFollowupsMutation, TakeoverMutation,
} from "../../gql/operations";
import type {
  ConversationQuery as ConversationData, ConversationQueryVariables, MembersQuery as MembersData,
  StartableSequencesQuery as StartableData,
} from "../../gql/generated";
import { onReconnect } from "../../lib/client";
import { clockTime, dayLabel, duration, leadName, maskNumber, titleCase } from "../../lib/format";
import { useDebounced } from "../../lib/live";
import { failureReason, tickFor } from "../../lib/ticks";
import { useSession } from "../../lib/session";
import { Composer } from "./Composer";
import { startableSequences } from "./filters";
import { InteractiveView, MediaView, TemplateView } from "./MessageExtras";
import { TraceDrawer } from "./TraceDrawer";

type Conversation = NonNullable<ConversationData["conversation"]>;
type Message = Conversation["messages"]["edges"][number]["node"];

const KIND_ICON: Record<string, IconName> = {
  IMAGE: "image", VIDEO: "video", AUDIO: "audio", DOCUMENT: "file", STICKER: "image", LOCATION: "pin", CONTACTS: "user",
  REACTION: "chat", INTERACTIVE: "list", BUTTON: "pointer", ORDER: "cart", TEMPLATE: "file", UNSUPPORTED: "alert",
};
const KIND_LABEL: Record<string, string> = {
  IMAGE: "Photo", VIDEO: "Video", AUDIO: "Voice note", DOCUMENT: "Document", STICKER: "Sticker", LOCATION: "Location",
  CONTACTS: "Contact card", REACTION: "Reaction", INTERACTIVE: "Buttons / link", BUTTON: "Tapped a button", ORDER: "Order",
  TEMPLATE: "Template", UNSUPPORTED: "Unsupported message",
};

function Bubble({ message, onTrace }: { message: Message; onTrace: (id: string) => void }) {
  const out = message.direction === "OUTBOUND";
  const tick = tickFor(message);
  const who = message.author === "BOT" ? "Bot" : message.author === "HUMAN" ? message.sentBy?.name ?? "Team" : message.author === "SYSTEM" ? "System" : null;
  const klass = message.author === "BOT" ? "bot" : message.author === "HUMAN" ? "human" : message.author === "SYSTEM" ? "system" : "";
  return (
    <div className={`bubble-row ${out ? "out" : ""}`} data-testid="message" data-author={message.author} data-message-id={message.id}>
      <div className={`bubble ${klass} ${message.status === "FAILED" ? "failed" : ""}`}>
        {who ? (
          <div className={`bubble-author ${klass}`}>
            {who}
            {message.author === "BOT" && message.trace ? (
              <button className="trace-link" onClick={() => onTrace(message.id)} data-testid="open-trace">Why?</button>
            ) : null}
          </div>
        ) : null}
        {message.type !== "TEXT" && message.type !== "SYSTEM" ? (
          <div className="kind"><Icon name={KIND_ICON[message.type] ?? "chat"} size={14} /> {KIND_LABEL[message.type] ?? titleCase(message.type)}</div>
        ) : null}
        {message.text && !(message.type !== "TEXT" && /^\[[\w ]+\]$/.test(message.text)) ? <div>{message.text}</div> : null}
        {message.media ? <MediaView messageId={message.id} type={message.type} text={message.text} media={message.media} /> : null}
        {message.interactive ? <InteractiveView interactive={message.interactive} /> : null}
        {message.template ? <TemplateView template={message.template} /> : null}
        <div className="bubble-meta">
          <span>{clockTime(message.createdAt)}</span>
          {tick.symbol ? <span className={`tick ${tick.tone}`} title={tick.label} aria-label={tick.label} data-testid="tick" data-status={message.status}>{tick.symbol}</span> : null}
        </div>
        {message.status === "FAILED" ? <div className="fail-reason" data-testid="fail-reason">Not delivered: {failureReason(message)}</div> : null}
      </div>
    </div>
  );
}

function Actions({ conversation, onChanged }: { conversation: Conversation; onChanged: () => void }) {
  const toast = useToast();
  const { viewer } = useSession();
  const [{ fetching: t }, takeover] = useMutation(TakeoverMutation);
  const [{ fetching: r }, release] = useMutation(ReleaseMutation);
  const [{ fetching: c }, close] = useMutation(CloseMutation);
  const [{ fetching: a }, resolve] = useMutation(ResolveAttentionMutation);
  const [, assign] = useMutation(AssignMutation);
  const [, startFollowups] = useMutation(StartFollowupsMutation);
  const [{ data: members }] = useQuery<MembersData>({ query: MembersQuery, requestPolicy: "cache-first" });
  const [{ data: sequences }] = useQuery<StartableData>({ query: StartableSequencesQuery, requestPolicy: "cache-and-network" });
  const startable = startableSequences(sequences?.followupSequences ?? []);

  async function act(name: string, run: () => Promise<{ data?: Record<string, { __typename: string; message?: string }>; error?: { message: string } }>, done: string) {
    const result = await run();
    const payload = result.data ? Object.values(result.data)[0] : undefined;
    if (result.error) toast.error(`${name} failed: ${result.error.message.replace(/^\[\w+\]\s*/, "")}`);
    else if (payload && payload.__typename !== "Conversation") toast.error(`${name} failed: ${payload.message ?? payload.__typename}`);
    else toast.success(done);
    onChanged();
  }
  const id = conversation.id;
  return (
    <div className="thread-actions">
      {conversation.needsAttention ? (
        <Button size="sm" busy={a} onClick={() => act("Resolve", () => resolve({ id }) as never, "Attention resolved")}>Resolve attention</Button>
      ) : null}
      {conversation.mode === "BOT" ? (
        <Button size="sm" variant="primary" busy={t} onClick={() => act("Take over", () => takeover({ id }) as never, "You are handling this conversation; the bot is paused")} data-testid="takeover">Take over</Button>
      ) : null}
      {conversation.mode === "HUMAN" ? (
        <Button size="sm" busy={r} onClick={() => act("Release", () => release({ id }) as never, "Handed back to the bot")} data-testid="release">Release to bot</Button>
      ) : null}
      {conversation.mode !== "CLOSED" ? (
        <select
          className="select"
          style={{ width: "auto", minHeight: 26, padding: "2px 6px", fontSize: 12 }}
          aria-label="Assign to"
          value={conversation.assignedTo?.id ?? ""}
          onChange={(e) => act("Assign", () => assign({ id, userId: e.target.value || null }) as never, e.target.value ? "Assigned" : "Unassigned")}
        >
          <option value="">Unassigned</option>
          {(members?.users ?? []).filter((m) => m.isActive && m.role !== "VIEWER").map((m) => (
            <option key={m.id} value={m.id}>{m.id === viewer?.user.id ? `${m.name} (me)` : m.name}</option>
          ))}
        </select>
      ) : null}
      {conversation.mode === "BOT" && startable.length ? (
        <select
          className="select"
          style={{ width: "auto", minHeight: 26, padding: "2px 6px", fontSize: 12 }}
          aria-label="Start a follow-up sequence"
          data-testid="start-followups"
          value=""
          onChange={(e) => {
            const chosen = startable.find((s) => s.id === e.target.value);
            if (chosen) void act("Follow-up", () => startFollowups({ id, sequenceId: chosen.id }) as never, `Follow-ups "${chosen.name}" scheduled`);
          }}
        >
          <option value="">Start follow-ups…</option>
          {startable.map((s) => <option key={s.id} value={s.id}>{s.name}</option>)}
        </select>
      ) : null}
      {conversation.mode !== "CLOSED" ? (
        <Button size="sm" variant="ghost" busy={c} onClick={() => act("Close", () => close({ id }) as never, "Conversation closed")}>Close</Button>
      ) : null}
    </div>
  );
}

/** Open conversation, read conversation: the caller's marker moves whenever a newer message is
 * on screen (the first load, and each live message after it). */
function useMarkRead(conversationId: string, newestId: string | undefined, onRead: () => void) {
  const [, markRead] = useMutation(MarkConversationReadMutation);
  useEffect(() => {
    if (!newestId) return;
    void markRead({ id: conversationId }).then((r) => {
      if (!r.error) onRead();
    });
    // Only when the newest message changes (onRead may be a new function each render).
  }, [conversationId, newestId]);
}

export function ConversationView({ conversationId, onRead = () => undefined }: { conversationId: string; onRead?: () => void }) {
  const { can } = useSession();
  const canEdit = can("AGENT");
  const [first, setFirst] = useState(50);
  const [{ data, fetching, error }, refetch] = useQuery<ConversationData, ConversationQueryVariables>({
    query: ConversationQuery,
    variables: { id: conversationId, first },
  });
  const [traceFor, setTraceFor] = useState<string | null>(null);
  const [, takeover] = useMutation(TakeoverMutation);
  const toast = useToast();
  const reload = useDebounced(() => refetch({ requestPolicy: "network-only" }), 200);
  const vars = { conversationId };
  useSubscription({ query: MessageCreatedSubscription, variables: vars }, (_, e) => (reload(), e));
  useSubscription({ query: MessageStatusSubscription, variables: vars }, (_, e) => (reload(), e));
  useSubscription({ query: ConversationUpdatedSubscription, variables: vars }, (_, e) => (reload(), e));
  useEffect(() => onReconnect(reload), [reload]);
  useEffect(() => setFirst(50), [conversationId]);

  const conversation = data?.conversation?.id === conversationId ? data.conversation : null;
  const messages = conversation ? [...conversation.messages.edges].map((e) => e.node).reverse() : [];
  const scrollRef = useRef<HTMLDivElement>(null);
  const lastId = messages[messages.length - 1]?.id;
  useMarkRead(conversationId, lastId, onRead);
  useLayoutEffect(() => {
    const el = scrollRef.current;
    if (el) el.scrollTop = el.scrollHeight;
  }, [lastId, conversationId]);

  if (!conversation) {
    if (fetching || !data) {
      return (
        <section className="thread">
          <div className="thread-head"><Skeleton width={34} height={34} style={{ borderRadius: "50%" }} /><Skeleton width={160} /></div>
          <div className="messages">
            {[60, 40, 70, 35].map((w, i) => (
              <div key={i} className={`bubble-row ${i % 2 ? "out" : ""}`}><Skeleton width={`${w}%`} height={38} /></div>
            ))}
          </div>
        </section>
      );
    }
    return (
      <section className="thread">
        <EmptyState icon={error ? "alert" : "search"} title={error ? "Could not load this conversation" : "Conversation not found"}>
          {error ? error.message : <Link to="/inbox">Back to the inbox</Link>}
        </EmptyState>
      </section>
    );
  }

  let lastDay = "";
  return (
    <section className="thread" aria-label="Conversation" data-testid="conversation-view" data-mode={conversation.mode}>
      <header className="thread-head">
        <Link to="/inbox" className="btn sm back-link" aria-label="Back to conversations">←</Link>
        <Avatar name={conversation.lead?.name ?? null} />
        <div className="col" style={{ gap: 2, minWidth: 0 }}>
          <strong className="ellipsis" data-testid="conversation-title">{leadName(conversation.lead)}</strong>
          <span className="small muted">
            {conversation.lead?.waId ? maskNumber(conversation.lead.waId) : ""} · {titleCase(conversation.stage)} · intent {titleCase(conversation.intentLevel)} · {titleCase(conversation.sentiment)}
          </span>
        </div>
        <div className="row" style={{ gap: 4, flexWrap: "wrap" }}>
          <Badge tone={conversation.mode === "HUMAN" ? "info" : conversation.mode === "BOT" ? "brand" : undefined}>
            <span data-testid="conversation-mode">{conversation.mode === "HUMAN" ? `Human${conversation.assignedTo ? ` · ${conversation.assignedTo.name}` : ""}` : titleCase(conversation.mode)}</span>
          </Badge>
          {conversation.needsAttention ? <Badge tone="warn" title={conversation.attentionReason ?? undefined}>Needs attention{conversation.attentionReason ? `: ${conversation.attentionReason}` : ""}</Badge> : null}
          {conversation.lead?.optedOut ? <Badge tone="danger">Opted out</Badge> : null}
          {conversation.mode === "HUMAN" && conversation.autoReleaseAt ? (
            <Badge title={`The bot takes the conversation back at ${clockTime(conversation.autoReleaseAt)} unless someone replies`}>
              bot resumes in {duration(Date.parse(conversation.autoReleaseAt) - Date.now())}
            </Badge>
          ) : null}
          {(conversation.lead?.tags ?? []).slice(0, 3).map((t) => <Badge key={t}>#{t}</Badge>)}
        </div>
        {canEdit ? <Actions conversation={conversation} onChanged={reload} /> : null}
      </header>
      <div className="messages" ref={scrollRef} data-testid="messages">
        {conversation.messages.pageInfo.hasNextPage ? (
          <Button size="sm" style={{ alignSelf: "center" }} onClick={() => setFirst((n) => n + 50)} busy={fetching}>Load earlier messages</Button>
        ) : null}
        {messages.length === 0 ? <EmptyState icon="chat" title="No messages yet" /> : null}
        {messages.map((m) => {
          const day = dayLabel(m.createdAt);
          const sep = day !== lastDay;
          lastDay = day;
          return (
            <Fragment key={m.id}>
              {sep ? <div className="day-sep">{day}</div> : null}
              <Bubble message={m} onTrace={setTraceFor} />
            </Fragment>
          );
        })}
      </div>
      <Composer
        conversationId={conversation.id}
        conversationMode={conversation.mode}
        windowOpen={conversation.windowOpen}
        windowExpiresAt={conversation.windowExpiresAt}
        optedOut={conversation.lead?.optedOut ?? false}
        canEdit={canEdit}
        onSent={reload}
        onTakeover={async () => {
          const result = await takeover({ id: conversation.id });
          const payload = result.data?.takeover as { __typename: string; message?: string } | undefined;
          if (result.error || (payload && payload.__typename !== "Conversation")) toast.error(`Take over failed: ${result.error?.message ?? payload?.message}`);
          reload();
        }}
      />
      {traceFor ? <TraceDrawer messageId={traceFor} onClose={() => setTraceFor(null)} /> : null}
    </section>
  );
}
