"""``funnel operator …``"""

from __future__ import annotations

import asyncio
import secrets

import typer

app = typer.Typer(
    help="The Kubernetes operator for FunnelTenant resources.",
    no_args_is_help=True,
)


@app.command("run")
def run() -> None:
    """Reconcile FunnelTenants into each organisation's receiver, bridge, worker and API.

    Configured by ``FUNNEL_OPERATOR__*`` (see ``OperatorSettings``). With several replicas the
    pods coordinate through kopf peering: only the one with the highest priority reconciles.
    """
    import kopf

    from funnel.core.settings import OperatorProcessSettings
    from funnel.core.telemetry import configure_logging
    from funnel.core.telemetry.metrics import mark_up, start_metrics_server
    from funnel.operator import logs
    from funnel.operator.handlers import build_registry

    settings = OperatorProcessSettings()
    configure_logging(settings.observability, service="funnel-operator")
    logs.install()
    start_metrics_server(settings.observability.metrics_port)
    mark_up("funnel-operator")
    operator = settings.operator
    registry, _ = build_registry(operator)
    # Peers with equal priority all pause (kopf's safety rule), so each pod draws its own: the
    # live pod with the highest draw is the leader, and a survivor takes over when it goes.
    priority = 1 + secrets.randbelow(2**31 - 2)
    asyncio.run(
        kopf.operator(
            registry=registry,
            clusterwide=not operator.namespace,
            namespaces=[operator.namespace] if operator.namespace else (),
            standalone=operator.standalone,
            # Naming a peering makes it mandatory in kopf, which then waits for the peering
            # resource even when told to run standalone: name it only when peering is wanted.
            peering_name=None if operator.standalone else operator.peering_name,
            priority=priority,
            liveness_endpoint=f"http://0.0.0.0:{operator.health_port}/healthz",
        )
    )
