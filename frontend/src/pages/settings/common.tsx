// Pieces the settings sections share: a section card with its save button (admins only), and a
// helper to run a save with toasts.
import { useMemo, type FormEvent, type ReactNode } from "react";
import { Button, Card } from "../../components/ui";

export function Section({ title, hint, canEdit, busy, onSave, children, testid, dirty = true }: {
  title: string;
  hint?: ReactNode;
  canEdit: boolean;
  busy?: boolean;
  onSave?: () => void;
  children: ReactNode;
  testid?: string;
  dirty?: boolean;
}) {
  function submit(e: FormEvent) {
    e.preventDefault();
    onSave?.();
  }
  return (
    <Card>
      <form className="col" style={{ gap: 12 }} onSubmit={submit} data-testid={testid}>
        <div>
          <h2>{title}</h2>
          {hint ? <p className="small muted" style={{ margin: "4px 0 0" }}>{hint}</p> : null}
        </div>
        <fieldset disabled={!canEdit} className="col settings-fields">{children}</fieldset>
        {canEdit && onSave ? (
          <div className="row" style={{ justifyContent: "flex-end" }}>
            <Button type="submit" variant="primary" busy={busy} disabled={!dirty}>Save</Button>
          </div>
        ) : null}
      </form>
    </Card>
  );
}

export function Toggle({ label, checked, onChange, hint }: { label: string; checked: boolean; onChange: (v: boolean) => void; hint?: string }) {
  return (
    <label className="row" style={{ gap: 8, alignItems: "flex-start" }}>
      <input type="checkbox" checked={checked} onChange={(e) => onChange(e.target.checked)} style={{ marginTop: 3 }} />
      <span><span style={{ fontWeight: 500 }}>{label}</span>{hint ? <span className="small muted" style={{ display: "block" }}>{hint}</span> : null}</span>
    </label>
  );
}

/** `value`, the same object for as long as it is equal by value. Every save refetches the
 * settings as a new object; a section that reset its form on that would throw away what the
 * user is typing there because another section was saved. */
export function useByValue<T>(value: T): T {
  const key = JSON.stringify(value);
  return useMemo(() => value, [key]);
}
