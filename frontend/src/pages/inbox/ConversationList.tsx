import { useEffect, useRef, useState } from "react";
import { useVirtualizer } from "@tanstack/react-virtual";
import { Link } from "react-router-dom";
import { Avatar, Badge, EmptyState, Skeleton } from "../../components/ui";
import { Icon } from "../../components/icons";
import { leadName, relativeTime, titleCase } from "../../lib/format";
import { tickFor } from "../../lib/ticks";
import type { ConversationRow } from "./useConversations";
import { QUICK_FILTERS, type QuickFilter } from "./filters";

export { filterFor, type QuickFilter } from "./filters";

const ROW = 74;

function ModeBadge({ row }: { row: ConversationRow }) {
  if (row.needsAttention) return <Badge tone="warn" title={row.attentionReason ?? undefined}>Attention</Badge>;
  if (row.mode === "HUMAN") return <Badge tone="info">Human</Badge>;
  if (row.mode === "CLOSED") return <Badge>Closed</Badge>;
  return <Badge tone="brand">Bot</Badge>;
}

export function ConversationList(props: {
  rows: ConversationRow[];
  loading: boolean;
  error: string | null;
  hasMore: boolean;
  loadMore: () => void;
  selectedId: string | null;
  quick: QuickFilter;
  onQuick: (q: QuickFilter) => void;
  search: string;
  onSearch: (s: string) => void;
  searchRef: React.RefObject<HTMLInputElement>;
}) {
  const { rows, loading, error, hasMore, loadMore, selectedId } = props;
  const scrollRef = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({
    count: rows.length + (hasMore ? 1 : 0),
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW,
    overscan: 8,
  });
  const items = virtualizer.getVirtualItems();
  const lastIndex = items.length ? items[items.length - 1]!.index : -1;

  useEffect(() => {
    if (hasMore && lastIndex >= rows.length - 5) loadMore();
  }, [lastIndex, rows.length, hasMore, loadMore]);

  // Keep the selection in view when j/k moves it.
  const selectedIndex = rows.findIndex((r) => r.id === selectedId);
  useEffect(() => {
    if (selectedIndex >= 0) virtualizer.scrollToIndex(selectedIndex, { align: "auto" });
    // Only when the selection moves (not on every virtualiser change).
  }, [selectedIndex]);

  const [, tick] = useState(0);
  useEffect(() => {
    const id = window.setInterval(() => tick((n) => n + 1), 30_000);
    return () => window.clearInterval(id);
  }, []);

  return (
    <section className="inbox-list" aria-label="Conversations">
      <div className="inbox-filters">
        <input
          ref={props.searchRef}
          className="input"
          type="search"
          placeholder="Search name or number  ( / )"
          value={props.search}
          onChange={(e) => props.onSearch(e.target.value)}
          aria-label="Search conversations"
        />
        <div className="chips" role="group" aria-label="Filter">
          {QUICK_FILTERS.map((f) => (
            <button key={f.key} className={`chip ${props.quick === f.key ? "on" : ""}`} aria-pressed={props.quick === f.key} onClick={() => props.onQuick(f.key)}>
              {f.label}
            </button>
          ))}
        </div>
      </div>
      <div className="conv-scroll" ref={scrollRef} data-testid="conversation-list">
        {loading && rows.length === 0 ? (
          <div className="col" style={{ padding: 12, gap: 18 }}>
            {Array.from({ length: 7 }, (_, i) => (
              <div key={i} className="row">
                <Skeleton width={34} height={34} style={{ borderRadius: "50%" }} />
                <div className="col grow" style={{ gap: 6 }}>
                  <Skeleton width="40%" />
                  <Skeleton width="85%" height={12} />
                </div>
              </div>
            ))}
          </div>
        ) : error && rows.length === 0 ? (
          <EmptyState icon="alert" title="Could not load conversations">{error}</EmptyState>
        ) : rows.length === 0 ? (
          <EmptyState icon="inbox" title={props.quick === "all" && !props.search ? "No conversations yet" : "Nothing matches"}>
            {props.quick === "all" && !props.search
              ? "When a customer writes to your WhatsApp number, the conversation appears here. Try the simulator to send one."
              : "Try another filter or search."}
          </EmptyState>
        ) : (
          <div style={{ height: virtualizer.getTotalSize(), position: "relative" }}>
            {items.map((item) => {
              const row = rows[item.index];
              if (!row) {
                return (
                  <div key="more" className="conv-item" style={{ transform: `translateY(${item.start}px)` }}>
                    <span className="muted small">Loading more…</span>
                  </div>
                );
              }
              const last = row.lastMessage;
              const tick = last ? tickFor({ direction: last.direction, status: last.status }) : null;
              // The open conversation is being read: never shown unread.
              const unread = row.id === selectedId ? 0 : row.unreadCount;
              return (
                <Link
                  key={row.id}
                  to={`/inbox/${row.id}`}
                  className={`conv-item ${row.id === selectedId ? "active" : ""} ${unread ? "unread" : ""}`}
                  style={{ transform: `translateY(${item.start}px)` }}
                  data-testid="conversation-item"
                  data-conversation-id={row.id}
                  data-unread={unread}
                  aria-current={row.id === selectedId ? "true" : undefined}
                >
                  <Avatar name={row.lead?.name ?? null} />
                  <div className="grow" style={{ display: "flex", flexDirection: "column", gap: 3 }}>
                    <div className="row" style={{ gap: 6 }}>
                      <span className="title ellipsis">{leadName(row.lead)}</span>
                      {last?.direction === "INBOUND" && row.mode !== "CLOSED" ? (
                        <span className="dot on" title="The customer wrote last" aria-label="The customer wrote last" />
                      ) : null}
                      {row.lead?.optedOut ? <Badge tone="danger">Opted out</Badge> : null}
                    </div>
                    <div className="preview ellipsis">
                      {tick && tick.symbol ? <span className={`tick ${tick.tone}`} title={tick.label}>{tick.symbol}</span> : null}
                      {last?.author === "BOT" ? <span className="muted">Bot: </span> : last?.author === "HUMAN" ? <span className="muted">You: </span> : null}
                      {row.lastMessagePreview ?? <span className="muted">No messages</span>}
                    </div>
                    <div className="row small muted" style={{ gap: 6 }}>
                      <span>{titleCase(row.stage)}</span>
                      {row.assignedTo ? <span className="ellipsis">· {row.assignedTo.name}</span> : null}
                      {!row.windowOpen && row.mode !== "CLOSED" ? (
                        <span className="row" style={{ gap: 3 }} title="The 24-hour window is closed: only templates can be sent">
                          · <Icon name="clock" size={11} /> templates only
                        </span>
                      ) : null}
                    </div>
                  </div>
                  <div className="meta">
                    <span>{relativeTime(row.lastMessageAt)}</span>
                    {unread ? (
                      <span className="unread-count" data-testid="unread-count" aria-label={`${unread} unread`} title={`${unread} unread ${unread === 1 ? "message" : "messages"}`}>
                        {unread > 99 ? "99+" : unread}
                      </span>
                    ) : null}
                    <ModeBadge row={row} />
                  </div>
                </Link>
              );
            })}
          </div>
        )}
      </div>
    </section>
  );
}
