"""``funnel sandbox serve``: run the fake Graph API on its own port."""

from __future__ import annotations

from typing import Annotated

import typer

from funnel.core.sandbox.state import (
    DEFAULT_MAX_SENT,
    LimitsConfig,
    SandboxLimits,
    SandboxState,
)

sandbox_app = typer.Typer(
    help="The WhatsApp sandbox: a fake Graph API that records what Funnel sends.",
    no_args_is_help=True,
)


def _parse_tokens(pairs: list[str]) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for pair in pairs:
        phone_number_id, sep, token = pair.partition("=")
        if not sep or not phone_number_id or not token:
            raise typer.BadParameter(f"expected PHONE_NUMBER_ID=TOKEN, got {pair.split('=')[0]!r}…")
        tokens[phone_number_id] = token
    return tokens


@sandbox_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8900,
    max_sent: Annotated[
        int, typer.Option(help="Recorded sends kept in memory (oldest dropped first).")
    ] = DEFAULT_MAX_SENT,
    token: Annotated[
        list[str] | None,
        typer.Option(
            help="PHONE_NUMBER_ID=TOKEN: accept only this token for the number (repeatable). "
            "Without it any non-empty Bearer token is accepted."
        ),
    ] = None,
    webhook_url: Annotated[
        str | None,
        typer.Option(help="Post signed sent/delivered/read status webhooks here after each send."),
    ] = None,
    app_secret: Annotated[
        str | None, typer.Option(help="App secret that signs the status webhooks.")
    ] = None,
    waba_id: Annotated[
        str, typer.Option(help="WABA id put in the status webhooks' entry[].id.")
    ] = "102290129340398",
    status_delay: Annotated[
        float, typer.Option(help="Seconds between one status webhook and the next.")
    ] = 0.1,
    mps: Annotated[
        float | None,
        typer.Option(help="Enforce this many messages/s per number (130429 beyond it)."),
    ] = None,
    pair_burst: Annotated[
        int | None,
        typer.Option(help="Enforce the pair rate: this burst per user, then 1 per 6 s (131056)."),
    ] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn log level.")] = "info",
) -> None:
    """Serve the sandbox until interrupted. Point FUNNEL_WHATSAPP__GRAPH_BASE_URL at it."""
    try:
        import uvicorn

        from funnel.core.sandbox.app import create_sandbox_app
    except ImportError as exc:
        typer.echo(
            f"the sandbox needs Starlette and uvicorn ({exc.name}): "
            "pip install 'funnel-core[local]'",
            err=True,
        )
        raise typer.Exit(2) from exc
    webhook = None
    if webhook_url:
        if not app_secret:
            raise typer.BadParameter("--webhook-url needs --app-secret to sign with")
        from funnel.core.sandbox.webhooks import WebhookConfig

        webhook = WebhookConfig(
            url=webhook_url, app_secret=app_secret, waba_id=waba_id, delay_s=status_delay
        )
    state = SandboxState(max_sent=max_sent)
    if mps is not None or pair_burst is not None:
        state.limits = SandboxLimits(LimitsConfig(mps=mps, pair_burst=pair_burst))
    app = create_sandbox_app(state, tokens=_parse_tokens(token or []), webhook=webhook)
    typer.echo(f"WhatsApp sandbox on http://{host}:{port} (recorded sends: /sandbox/sent)")
    uvicorn.run(app, host=host, port=port, log_level=log_level)
