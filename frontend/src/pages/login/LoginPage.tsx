import { useState, type FormEvent } from "react";
import { Link, Navigate, useLocation, useNavigate } from "react-router-dom";
import { Button, Card } from "../../components/ui";
import { login } from "../../lib/auth";
import { useSession } from "../../lib/session";

export default function LoginPage() {
  const { tokens } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const from = (location.state as { from?: string } | null)?.from ?? "/inbox";
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (tokens) return <Navigate to={from} replace />;

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(email.trim(), password);
      navigate(from, { replace: true });
    } catch (err) {
      setError(err instanceof Error ? err.message : "Could not sign in.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="auth-page">
      <Card className="auth-card">
        <div className="row">
          <svg width="28" height="28" viewBox="0 0 32 32" aria-hidden><path d="M4 5h24l-9 11v9l-6 3V16z" fill="#0f766e" /></svg>
          <h1>Sign in to Funnel</h1>
        </div>
        <p className="muted" style={{ margin: 0 }}>Your team's WhatsApp conversations, live.</p>
        <form className="col" onSubmit={submit} style={{ gap: 12 }}>
          <label className="field">
            Email
            <input className="input" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
          </label>
          <label className="field">
            Password
            <input className="input" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          </label>
          {error ? <div className="form-error" role="alert">{error}</div> : null}
          <Button variant="primary" type="submit" busy={busy}>Sign in</Button>
        </form>
        <p className="muted small" style={{ margin: 0 }}>
          Invited by a colleague? Open the link they sent you, or <Link to="/invitation">paste your invitation code</Link>.
        </p>
      </Card>
    </div>
  );
}
