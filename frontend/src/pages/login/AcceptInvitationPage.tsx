import { useState, type FormEvent } from "react";
import { Link, useNavigate, useSearchParams } from "react-router-dom";
import { Button, Card } from "../../components/ui";
import { ApiError, errorMessage, fromPair, saveTokens } from "../../lib/auth";

export default function AcceptInvitationPage() {
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [token, setToken] = useState(params.get("token") ?? "");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const response = await fetch("/auth/accept-invitation", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token: token.trim(), name: name.trim() || null, password: password || null }),
      });
      const body = await response.json().catch(() => null);
      if (!response.ok) {
        const reason =
          response.status === 404 ? "This invitation does not exist." :
          response.status === 409 ? "This invitation has expired or was already used." :
          errorMessage(body, "Could not accept the invitation.");
        throw new ApiError(response.status, reason, body);
      }
      saveTokens(fromPair(body));
      navigate("/inbox", { replace: true });
    } catch (err) {
      setError(err instanceof Error ? err.message : "Could not accept the invitation.");
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="auth-page">
      <Card className="auth-card">
        <h1>Join your team on Funnel</h1>
        <p className="muted" style={{ margin: 0 }}>
          New to Funnel? Choose your name and a password (at least 10 characters). Already have an account? Enter its password.
        </p>
        <form className="col" onSubmit={submit} style={{ gap: 12 }}>
          <label className="field">
            Invitation code
            <input className="input mono" required value={token} onChange={(e) => setToken(e.target.value)} />
          </label>
          <label className="field">
            Your name
            <input className="input" autoComplete="name" value={name} onChange={(e) => setName(e.target.value)} />
          </label>
          <label className="field">
            Password
            <input className="input" type="password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          </label>
          {error ? <div className="form-error" role="alert">{error}</div> : null}
          <Button variant="primary" type="submit" busy={busy}>Accept invitation</Button>
        </form>
        <Link to="/login" className="small">Back to sign in</Link>
      </Card>
    </div>
  );
}
