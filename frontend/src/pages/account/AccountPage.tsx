import { useState, type FormEvent } from "react";
import { Button, Card } from "../../components/ui";
import { useToast } from "../../components/toast";
import { api } from "../../lib/auth";
import { titleCase } from "../../lib/format";
import { useSession } from "../../lib/session";

export default function AccountPage() {
  const { viewer, role } = useSession();
  const toast = useToast();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [confirm, setConfirm] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(null);
    if (next !== confirm) return setError("The new passwords do not match.");
    if (next.length < 10) return setError("Use at least 10 characters.");
    setBusy(true);
    try {
      await api("/auth/change-password", { method: "POST", json: { current_password: current, new_password: next } });
      toast.success("Password changed. Your other sessions were signed out.");
      setCurrent("");
      setNext("");
      setConfirm("");
    } catch (err) {
      setError(err instanceof Error ? err.message : "Could not change the password.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="page">
      <div className="page-head"><h1>Account</h1></div>
      <div className="col" style={{ maxWidth: 460, gap: 16 }}>
        <Card>
          <dl className="kv">
            <dt>Name</dt><dd>{viewer?.user.name}</dd>
            <dt>Email</dt><dd>{viewer?.user.email}</dd>
            <dt>Organisation</dt><dd>{viewer?.organisation.name}</dd>
            <dt>Role</dt><dd>{role ? titleCase(role) : ""}</dd>
          </dl>
        </Card>
        <Card>
          <form className="col" onSubmit={submit} style={{ gap: 12 }}>
            <h2>Change password</h2>
            <label className="field">Current password
              <input className="input" type="password" autoComplete="current-password" required value={current} onChange={(e) => setCurrent(e.target.value)} />
            </label>
            <label className="field">New password
              <input className="input" type="password" autoComplete="new-password" required value={next} onChange={(e) => setNext(e.target.value)} />
            </label>
            <label className="field">Repeat the new password
              <input className="input" type="password" autoComplete="new-password" required value={confirm} onChange={(e) => setConfirm(e.target.value)} />
            </label>
            {error ? <div className="form-error" role="alert">{error}</div> : null}
            <Button variant="primary" type="submit" busy={busy}>Change password</Button>
          </form>
        </Card>
      </div>
    </div>
  );
}
