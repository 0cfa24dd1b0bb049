import { useEffect, useMemo, useRef, useState } from "react";
import { useNavigate, useParams } from "react-router-dom";
import { EmptyState } from "../../components/ui";
import { isTyping } from "../../lib/live";
import { useSession } from "../../lib/session";
import { ConversationList, filterFor, type QuickFilter } from "./ConversationList";
import { ConversationView } from "./ConversationView";
import { useConversations } from "./useConversations";

export default function InboxPage() {
  const params = useParams();
  const selectedId = params["*"] || null;
  const navigate = useNavigate();
  const { viewer } = useSession();
  const [quick, setQuick] = useState<QuickFilter>(() => (sessionStorage.getItem("inbox.filter") as QuickFilter) || "all");
  const [search, setSearch] = useState("");
  const [debounced, setDebounced] = useState("");
  useEffect(() => {
    const id = window.setTimeout(() => setDebounced(search), 250);
    return () => window.clearTimeout(id);
  }, [search]);
  useEffect(() => sessionStorage.setItem("inbox.filter", quick), [quick]);
  const filter = useMemo(() => filterFor(quick, debounced, viewer?.user.id ?? null), [quick, debounced, viewer?.user.id]);
  const list = useConversations(filter);
  const searchRef = useRef<HTMLInputElement>(null);

  // j / k: next / previous conversation; "/": search; Escape: leave the search box.
  useEffect(() => {
    function onKey(e: KeyboardEvent) {
      if (e.key === "Escape" && e.target === searchRef.current) {
        searchRef.current?.blur();
        return;
      }
      if (isTyping(e.target) || e.metaKey || e.ctrlKey || e.altKey) return;
      if (document.querySelector('[role="dialog"]')) return;
      if (e.key === "/") {
        e.preventDefault();
        searchRef.current?.focus();
        return;
      }
      if (e.key !== "j" && e.key !== "k") return;
      const rows = list.rows;
      if (!rows.length) return;
      const index = rows.findIndex((r) => r.id === selectedId);
      const next = index < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, index + (e.key === "j" ? 1 : -1)));
      if (e.key === "j" && index >= rows.length - 3) list.loadMore();
      navigate(`/inbox/${rows[next]!.id}`);
    }
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [list, selectedId, navigate]);

  return (
    <div className={`inbox ${selectedId ? "has-selection" : ""}`}>
      <ConversationList
        {...list}
        selectedId={selectedId}
        quick={quick}
        onQuick={setQuick}
        search={search}
        onSearch={setSearch}
        searchRef={searchRef}
      />
      {selectedId ? (
        <ConversationView key={selectedId} conversationId={selectedId} onRead={list.refresh} />
      ) : (
        <section className="thread">
          <EmptyState icon="chat" title="Pick a conversation">
            <span className="small">Use <kbd>j</kbd> / <kbd>k</kbd> to move through the list, <kbd>/</kbd> to search.</span>
          </EmptyState>
        </section>
      )}
    </div>
  );
}
