// One per page: a crash in one page shows a recoverable message there and leaves the shell working.
import { Component, type ErrorInfo, type ReactNode } from "react";
import { Icon } from "./icons";

interface Props { name: string; children: ReactNode }
interface State { error: Error | null }

export class ErrorBoundary extends Component<Props, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidCatch(error: Error, info: ErrorInfo): void {
    console.error(`${this.props.name} failed`, error, info.componentStack);
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <div className="empty" role="alert">
        <div className="icon"><Icon name="alert" size={28} /></div>
        <h3>{this.props.name} ran into a problem</h3>
        <p className="muted small">{this.state.error.message}</p>
        <div className="row">
          <button className="btn" onClick={() => this.setState({ error: null })}>Try again</button>
          <button className="btn ghost" onClick={() => window.location.reload()}>Reload the app</button>
        </div>
      </div>
    );
  }
}
