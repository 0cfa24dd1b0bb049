// "Try it": chat as a customer on the sandbox channel. Each message is posted to the receiver as
// a signed webhook (GraphQL simulateCustomerMessage), so it takes the real path: receiver, queue,
// Kafka, worker, pipeline, outbox, sandbox. The phone shows the conversation as the customer sees
// it; the panel beside it shows the trace of the selected bot reply.
import { useEffect, useMemo, useRef, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { useMutation, useQuery, useSubscription } from "urql";
import { Icon } from "../../components/icons";
import { Badge, Button, Card, EmptyState } from "../../components/ui";
import { useToast } from "../../components/toast";
import {
  ConversationQuery, ConversationUpdatedSubscription, MessageCreatedSubscription,
  MessageStatusSubscription, SimulateCustomerMessageMutation,
} from "../../gql/operations";
import type {
  ConversationQuery as ConversationData, ConversationQueryVariables,
  SimulateCustomerMessageMutation as SimulateData, SimulateCustomerMessageMutationVariables,
} from "../../gql/generated";
import { clockTime, titleCase } from "../../lib/format";
import { useDebounced } from "../../lib/live";
import { TraceView } from "../inbox/TraceDrawer";

const KEY = "simulator.customer";
/** The conversation a simulated customer's messages landed in, remembered per number. */
const conversationKey = (waId: string) => `simulator.conversation.${waId}`;

function newCustomerNumber(): string {
  // 1555 0100 xxx: the fictional range, never a real subscriber.
  return `15550100${String(Math.floor(Math.random() * 1000)).padStart(3, "0")}`;
}

interface Pending { text: string; at: string }

export default function SimulatorPage() {
  const toast = useToast();
  const [waId, setWaId] = useState(() => sessionStorage.getItem(KEY) ?? newCustomerNumber());
  useEffect(() => sessionStorage.setItem(KEY, waId), [waId]);
  const [name, setName] = useState("Test customer");
  const [text, setText] = useState("");
  const [conversationId, setConversationId] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending[]>([]);
  const [waitingSince, setWaitingSince] = useState<number | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const [unavailable, setUnavailable] = useState<string | null>(null);
  const [{ fetching: sending }, simulate] = useMutation<SimulateData, SimulateCustomerMessageMutationVariables>(SimulateCustomerMessageMutation);
  const bodyRef = useRef<HTMLDivElement>(null);

  // Which conversation is this customer's: the answer to their first message says (once the worker
  // has stored it), and it is remembered for the number.
  useEffect(() => {
    setConversationId(sessionStorage.getItem(conversationKey(waId)));
    setPending([]);
    setSelected(null);
  }, [waId]);
  const remember = (id: string) => {
    sessionStorage.setItem(conversationKey(waId), id);
    setConversationId(id);
  };

  const [{ data }, refetch] = useQuery<ConversationData, ConversationQueryVariables>({
    query: ConversationQuery,
    variables: { id: conversationId ?? "", first: 50 },
    pause: !conversationId,
  });
  const reload = useDebounced(() => refetch({ requestPolicy: "network-only" }), 150);
  const live = { conversationId: conversationId ?? undefined };
  useSubscription({ query: MessageCreatedSubscription, variables: live, pause: !conversationId }, (_, e) => (reload(), e));
  useSubscription({ query: MessageStatusSubscription, variables: live, pause: !conversationId }, (_, e) => (reload(), e));
  useSubscription({ query: ConversationUpdatedSubscription, variables: live, pause: !conversationId }, (_, e) => (reload(), e));

  const conversation = data?.conversation && data.conversation.id === conversationId ? data.conversation : null;
  const messages = useMemo(() => (conversation ? [...conversation.messages.edges].map((e) => e.node).reverse() : []), [conversation]);
  // Customer messages the platform has not stored yet, shown as sending.
  const stored = new Set(messages.filter((m) => m.author === "LEAD").map((m) => m.text));
  const unsent = pending.filter((p) => !stored.has(p.text));
  const lastLead = [...messages].reverse().find((m) => m.author === "LEAD");
  const lastReply = [...messages].reverse().find((m) => m.direction === "OUTBOUND");
  const answered = !!lastLead && !!lastReply && lastReply.createdAt >= lastLead.createdAt && unsent.length === 0;
  const thinking = waitingSince !== null && !answered && Date.now() - waitingSince < 60_000;

  // Follow the newest bot reply in the trace panel.
  const newestBot = [...messages].reverse().find((m) => m.author === "BOT" && m.trace);
  useEffect(() => {
    if (newestBot) setSelected(newestBot.id);
  }, [newestBot?.id]); // only when a new reply arrives
  useEffect(() => {
    if (answered) setWaitingSince(null);
  }, [answered]);
  useEffect(() => {
    bodyRef.current?.scrollTo({ top: bodyRef.current.scrollHeight });
  }, [messages.length, unsent.length, thinking]);

  async function send(e: FormEvent) {
    e.preventDefault();
    const message = text.trim();
    if (!message || sending) return;
    setText("");
    setPending((p) => [...p, { text: message, at: new Date().toISOString() }]);
    setWaitingSince(Date.now());
    // Only a first message (or one after the conversation closed) waits for its conversation's id.
    const withConversation = !conversationId || conversation?.mode === "CLOSED";
    const result = await simulate({ text: message, fromWaId: waId, name: name.trim() || null, withConversation });
    const payload = result.data?.simulateCustomerMessage;
    if (result.error || !payload || payload.__typename !== "SimulatedMessage") {
      const reason = result.error?.message.replace(/^\[\w+\]\s*/, "") ?? (payload && "message" in payload ? payload.message : "not sent");
      setPending((p) => p.filter((x) => x.text !== message));
      setWaitingSince(null);
      if (payload?.__typename === "NotFoundError" || payload?.__typename === "ForbiddenError") setUnavailable(reason);
      else toast.error(`The message was not delivered: ${reason}`);
      return;
    }
    if (payload.conversationId) remember(payload.conversationId);
  }

  return (
    <div className="page">
      <div className="page-head">
        <h1 className="grow">Try it</h1>
        <label className="row small">Name <input className="input" style={{ width: 150 }} value={name} onChange={(e) => setName(e.target.value)} aria-label="Customer name" /></label>
        <Button onClick={() => setWaId(newCustomerNumber())} title="Start a fresh conversation as a new customer">New customer</Button>
        {conversationId ? <Link className="btn" to={`/inbox/${conversationId}`}>Open in inbox</Link> : null}
      </div>
      <p className="muted" style={{ marginTop: -6 }}>
        Chat as a customer on the sandbox WhatsApp channel. Your bot answers through the real pipeline (persona, knowledge base, rules, handoffs) and nothing reaches a real phone.
      </p>
      {unavailable ? <div className="form-error" style={{ marginBottom: 12 }}>The simulator is not available here: {unavailable}</div> : null}
      <div className="sim">
        <div className="phone" aria-label="Phone">
          <div className="phone-screen">
            <div className="phone-head">
              <span className="avatar" style={{ background: "#fff" }}>F</span>
              <div className="col" style={{ gap: 0 }}>
                <strong>Your business</strong>
                <span className="small" style={{ opacity: 0.85 }} data-testid="sim-status">
                  {thinking ? "typing…" : conversation ? `${titleCase(conversation.mode)} · ${titleCase(conversation.stage)}` : "online"}
                </span>
              </div>
            </div>
            <div className="phone-body" ref={bodyRef} data-testid="sim-messages">
              {messages.length === 0 && unsent.length === 0 ? <div className="day-sep">Say hello to start</div> : null}
              {messages.map((m) => {
                const mine = m.author === "LEAD";
                return (
                  <div key={m.id} className={`bubble-row ${mine ? "out" : ""}`}>
                    <div
                      className="bubble"
                      data-testid={mine ? "sim-customer" : m.author === "BOT" ? "sim-bot" : "sim-human"}
                      onClick={() => m.trace && setSelected(m.id)}
                      style={{ cursor: m.trace ? "pointer" : undefined, outline: m.id === selected ? "2px solid #00a884" : undefined }}
                      title={m.trace ? "Show this reply's trace" : undefined}
                    >
                      {m.author === "HUMAN" ? <div className="bubble-author human">{m.sentBy?.name ?? "Team"}</div> : null}
                      {m.text ?? `[${titleCase(m.type)}]`}
                      <div className="bubble-meta">
                        {clockTime(m.createdAt)}
                      </div>
                    </div>
                  </div>
                );
              })}
              {unsent.map((p) => (
                <div key={`p-${p.at}`} className="bubble-row out">
                  <div className="bubble" data-testid="sim-customer">
                    {p.text}
                    <div className="bubble-meta">{clockTime(p.at)} <span className="tick pending">◷</span></div>
                  </div>
                </div>
              ))}
              {thinking ? <div className="typing" data-testid="sim-thinking">The bot is typing…</div> : null}
              {conversation?.mode === "HUMAN" ? <div className="day-sep">A person has taken over: the bot stays silent</div> : null}
            </div>
            <form className="phone-input" onSubmit={send}>
              <input value={text} onChange={(e) => setText(e.target.value)} placeholder="Message" aria-label="Customer message" data-testid="sim-input" maxLength={4096} />
              <button type="submit" aria-label="Send" disabled={sending || !text.trim()} data-testid="sim-send"><Icon name="send" /></button>
            </form>
          </div>
        </div>
        <Card>
          <div className="row" style={{ marginBottom: 10 }}>
            <h2 className="grow">What the bot did</h2>
            {conversation?.needsAttention ? <Badge tone="warn">Handed to a person{conversation.attentionReason ? `: ${conversation.attentionReason}` : ""}</Badge> : null}
          </div>
          {selected ? (
            <TraceView key={selected} messageId={selected} />
          ) : (
            <EmptyState icon="activity" title="No reply yet">Send a message; the trace of each bot reply (Eyes, knowledge, Brain, policy, Mouth) appears here. Tap a reply to see its turn.</EmptyState>
          )}
        </Card>
      </div>
    </div>
  );
}
