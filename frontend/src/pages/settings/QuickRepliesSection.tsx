// The organisation's quick replies: saved answers agents insert from the inbox composer (chips,
// or "/" and a few letters of the title). Admins add, change and delete them; others read them.
import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { Button, Card, EmptyState, Modal, SkeletonLines } from "../../components/ui";
import { useToast } from "../../components/toast";
import { CreateQuickReplyMutation, DeleteQuickReplyMutation, QuickRepliesQuery, UpdateQuickReplyMutation } from "../../gql/operations";
import type { QuickRepliesQuery as QuickRepliesData } from "../../gql/generated";
import { failureOf, type UnionAnswer } from "../../lib/results";

type Reply = QuickRepliesData["quickReplies"][number];

const TITLE_MAX = 100;
const TEXT_MAX = 4096;

function ReplyForm({ initial, busy, submitLabel, onSubmit, onCancel }: {
  initial: { title: string; text: string };
  busy: boolean;
  submitLabel: string;
  onSubmit: (value: { title: string; text: string }) => Promise<boolean>;
  onCancel?: () => void;
}) {
  const [title, setTitle] = useState(initial.title);
  const [text, setText] = useState(initial.text);
  const ready = title.trim().length > 0 && text.trim().length > 0;
  return (
    <form
      className="col"
      style={{ gap: 8 }}
      data-testid="quick-reply-form"
      onSubmit={async (e) => {
        e.preventDefault();
        if (ready && (await onSubmit({ title: title.trim(), text: text.trim() })) && !onCancel) {
          setTitle("");
          setText("");
        }
      }}
    >
      <label className="field">Title (what agents type after /)
        <input className="input" value={title} maxLength={TITLE_MAX} onChange={(e) => setTitle(e.target.value)} required />
      </label>
      <label className="field">Text
        <textarea className="textarea" rows={3} value={text} maxLength={TEXT_MAX} onChange={(e) => setText(e.target.value)} required />
      </label>
      <div className="row" style={{ justifyContent: "flex-end" }}>
        {onCancel ? <Button type="button" variant="ghost" onClick={onCancel}>Cancel</Button> : null}
        <Button type="submit" variant="primary" busy={busy} disabled={!ready}>{submitLabel}</Button>
      </div>
    </form>
  );
}

export function QuickRepliesSection({ canEdit }: { canEdit: boolean }) {
  const toast = useToast();
  const [{ data, fetching, error }, refetch] = useQuery<QuickRepliesData>({ query: QuickRepliesQuery, requestPolicy: "cache-and-network" });
  const [{ fetching: creating }, create] = useMutation(CreateQuickReplyMutation);
  const [{ fetching: updating }, update] = useMutation(UpdateQuickReplyMutation);
  const [{ fetching: removing }, remove] = useMutation(DeleteQuickReplyMutation);
  const [editing, setEditing] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<Reply | null>(null);
  const reload = () => refetch({ requestPolicy: "network-only" });

  async function done(answer: UnionAnswer | undefined, expected: string, ok: string, transport?: { message: string }): Promise<boolean> {
    const failure = transport ? transport.message : failureOf(answer, expected);
    if (failure) {
      toast.error(failure);
      return false;
    }
    toast.success(ok);
    reload();
    return true;
  }

  const replies: Reply[] = data?.quickReplies ?? [];
  return (
    <Card>
      <div className="col" style={{ gap: 12 }} data-testid="settings-quick-replies">
        <div>
          <h2>Quick replies</h2>
          <p className="small muted" style={{ margin: "4px 0 0" }}>
            Saved answers for the inbox: agents click one above the reply box, or type <kbd>/</kbd> and a few letters of its title.
          </p>
        </div>
        {!data && fetching ? <SkeletonLines lines={3} /> : null}
        {error && !data ? <EmptyState icon="alert" title="Could not load quick replies">{error.message}</EmptyState> : null}
        {data && replies.length === 0 ? (
          <p className="small muted">No quick replies yet.{canEdit ? " Add the answers your team types most often." : ""}</p>
        ) : null}
        <ul className="col" style={{ gap: 8, listStyle: "none", padding: 0, margin: 0 }}>
          {replies.map((r) => (
            <li key={r.id} className="quick-reply-row" data-testid="quick-reply-row">
              {editing === r.id ? (
                <ReplyForm
                  initial={r}
                  busy={updating}
                  submitLabel="Save"
                  onCancel={() => setEditing(null)}
                  onSubmit={async (value) => {
                    const result = await update({ id: r.id, input: value });
                    const saved = await done(result.data?.updateQuickReply, "QuickReply", "Quick reply saved.", result.error);
                    if (saved) setEditing(null);
                    return saved;
                  }}
                />
              ) : (
                <div className="row" style={{ alignItems: "flex-start" }}>
                  <div className="col grow" style={{ gap: 2, minWidth: 0 }}>
                    <strong>{r.title}</strong>
                    <span className="small muted" style={{ whiteSpace: "pre-wrap" }}>{r.text}</span>
                  </div>
                  {canEdit ? (
                    <div className="row" style={{ gap: 4 }}>
                      <Button size="sm" variant="ghost" onClick={() => setEditing(r.id)} aria-label={`Edit ${r.title}`}>Edit</Button>
                      <Button
                        size="sm"
                        variant="ghost"
                        aria-label={`Delete ${r.title}`}
                        onClick={() => setDeleting(r)}
                      >
                        Delete
                      </Button>
                    </div>
                  ) : null}
                </div>
              )}
            </li>
          ))}
        </ul>
        {canEdit ? (
          <>
            <h3 style={{ margin: "8px 0 0" }}>Add a quick reply</h3>
            <ReplyForm
              initial={{ title: "", text: "" }}
              busy={creating}
              submitLabel="Add"
              onSubmit={async (value) => {
                const result = await create({ input: value });
                return done(result.data?.createQuickReply, "QuickReply", "Quick reply added.", result.error);
              }}
            />
          </>
        ) : null}
      </div>
      {deleting ? (
        <Modal title={`Delete ${deleting.title}?`} onClose={() => setDeleting(null)}>
          <p>Agents no longer see it in the composer; messages already sent are unchanged.</p>
          <div className="row" style={{ justifyContent: "flex-end", gap: 8 }}>
            <Button onClick={() => setDeleting(null)}>Cancel</Button>
            <Button variant="danger" busy={removing} onClick={async () => {
              const result = await remove({ id: deleting.id });
              await done(result.data?.deleteQuickReply, "Deleted", "Quick reply deleted.", result.error);
              setDeleting(null);
            }}>Delete</Button>
          </div>
        </Modal>
      ) : null}
    </Card>
  );
}
