"""A small async Kubernetes client for the children: get, create, merge-patch, delete.

kopf talks to the API for the FunnelTenant itself; the children go through this client, which
reuses kopf's login (in-cluster service account or kubeconfig) and the same aiohttp stack, so
the operator needs no second, thread-bound client library on its hot path. Merge patch is used on
purpose: a list in the desired state (containers, env, ports) replaces the live list whole, which
is exactly "make it look like the builder's output" without a field manager.
"""

from __future__ import annotations

import ssl
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import aiohttp

Manifest = dict[str, Any]

#: kind → plural resource name, for every kind the operator reads or writes.
PLURALS = {
    "ServiceAccount": "serviceaccounts",
    "ConfigMap": "configmaps",
    "Secret": "secrets",
    "Service": "services",
    "Deployment": "deployments",
    "HorizontalPodAutoscaler": "horizontalpodautoscalers",
    "PodDisruptionBudget": "poddisruptionbudgets",
    "NetworkPolicy": "networkpolicies",
    "ServiceMonitor": "servicemonitors",
    "FunnelTenant": "funneltenants",
}


class ApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def object_path(
    api_version: str,
    kind: str,
    namespace: str,
    name: str | None = None,
    subresource: str | None = None,
) -> str:
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    path = f"{prefix}/namespaces/{namespace}/{PLURALS[kind]}"
    if name is not None:
        path += f"/{name}"
    if subresource is not None:
        path += f"/{subresource}"
    return path


class KubeApi(Protocol):
    async def get(self, path: str) -> Manifest | None: ...
    async def create(self, path: str, body: Manifest) -> Manifest: ...
    async def patch(self, path: str, body: Manifest) -> Manifest: ...
    async def delete(self, path: str) -> bool: ...


@dataclass(frozen=True, slots=True)
class Credentials:
    server: str
    headers: dict[str, str] = field(default_factory=dict)
    ssl: ssl.SSLContext | bool = True


#: Returns fresh credentials; called at start and again after a 401 (rotated tokens).
Login = Callable[[], Awaitable[Credentials]]


class HttpKubeApi:
    """``KubeApi`` over aiohttp. One session per operator process."""

    def __init__(self, login: Login, *, timeout_s: float = 30.0) -> None:
        self._login = login
        self._credentials: Credentials | None = None
        self._session: aiohttp.ClientSession | None = None
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        #: Requests sent, for the operator's metrics and the benchmark's calls-per-tenant.
        self.requests = 0

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _request(
        self, method: str, path: str, body: Manifest | None = None, content_type: str = ""
    ) -> tuple[int, Any]:
        for attempt in range(3):
            if self._credentials is None:
                self._credentials = await self._login()
            if self._session is None:
                self._session = aiohttp.ClientSession(timeout=self._timeout)
            creds = self._credentials
            headers = dict(creds.headers)
            if content_type:
                headers["Content-Type"] = content_type
            self.requests += 1
            try:
                response = await self._session.request(
                    method, creds.server + path, json=body, headers=headers, ssl=creds.ssl
                )
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                # A kept-alive connection the server had already closed, or an overloaded server:
                # send again. A repeated create answers 409, which the reconciler reads as
                # "already there". After three tries the pass fails as a retryable API error.
                if attempt < 2:
                    continue
                raise ApiError(503, f"API server unreachable: {exc!r}") from exc
            async with response:
                if response.status == 401 and attempt == 0:
                    self._credentials = None  # a projected token rotated: log in again
                    continue
                payload = (
                    await response.json(content_type=None) if response.content_length != 0 else None
                )
                return response.status, payload
        raise ApiError(503, "no answer from the API server")

    @staticmethod
    def _raise(status: int, payload: Any) -> None:
        message = payload.get("message", "") if isinstance(payload, dict) else str(payload)
        raise ApiError(status, message)

    async def get(self, path: str) -> Manifest | None:
        status, payload = await self._request("GET", path)
        if status == 404:
            return None
        if status >= 400:
            self._raise(status, payload)
        return dict(payload)

    async def create(self, path: str, body: Manifest) -> Manifest:
        status, payload = await self._request("POST", path, body)
        if status >= 400:
            self._raise(status, payload)
        return dict(payload)

    async def patch(self, path: str, body: Manifest) -> Manifest:
        status, payload = await self._request(
            "PATCH", path, body, content_type="application/merge-patch+json"
        )
        if status >= 400:
            self._raise(status, payload)
        return dict(payload)

    async def delete(self, path: str) -> bool:
        """Delete; False when it was already gone."""
        status, payload = await self._request("DELETE", path)
        if status == 404:
            return False
        if status >= 400:
            self._raise(status, payload)
        return True


def credentials_from_kopf(info: Any) -> Credentials:
    """Turn kopf's ``ConnectionInfo`` (from ``kopf.login_via_client``) into :class:`Credentials`."""
    headers: dict[str, str] = {}
    if info.token:
        headers["Authorization"] = f"{info.scheme or 'Bearer'} {info.token}"
    context: ssl.SSLContext | bool = True
    if info.server.startswith("https"):
        if info.insecure:
            context = False
        else:
            context = ssl.create_default_context(
                cafile=info.ca_path,
                cadata=info.ca_data.decode() if isinstance(info.ca_data, bytes) else info.ca_data,
            )
            if info.certificate_path and info.private_key_path:
                context.load_cert_chain(info.certificate_path, info.private_key_path)
    return Credentials(server=info.server.rstrip("/"), headers=headers, ssl=context)
