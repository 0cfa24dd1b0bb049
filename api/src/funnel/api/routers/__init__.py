"""REST routers, one module per prefix, discovered at start-up.

A module here that defines ``router`` (an ``APIRouter`` with its prefix and tags) and
``PERMISSIONS`` (see :mod:`funnel.api.permissions`) is mounted by :func:`discover`; nothing else
has to be edited to add one. Modules whose name starts with ``_`` are helpers, not routers. A
module with ``IN_PRODUCTION = False`` is not mounted in production at all (``/debug``).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from types import ModuleType

from fastapi import APIRouter

from funnel.api.permissions import Access


def router_modules() -> Iterator[ModuleType]:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if not isinstance(getattr(module, "router", None), APIRouter):
            raise TypeError(f"{module.__name__} defines no `router: APIRouter`")
        if not isinstance(getattr(module, "PERMISSIONS", None), dict):
            raise TypeError(f"{module.__name__} defines no `PERMISSIONS` table")
        yield module


def discover(*, production: bool = False) -> list[tuple[APIRouter, dict[str, Access]]]:
    return [
        (module.router, module.PERMISSIONS)
        for module in router_modules()
        if not production or getattr(module, "IN_PRODUCTION", True)
    ]
