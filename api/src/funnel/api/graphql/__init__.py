"""GraphQL at ``/graphql``: a second adapter over the same services as REST.

Layout (one module per domain, merged in :mod:`funnel.api.graphql.schema`):

* ``context.py``: the typed per-request context (principal, scoped session, loaders, events);
* ``permissions.py``: ``IsAuthenticated``, ``HasRole.at_least(...)``, ``IsPlatformAdmin``;
* ``errors.py``: union members for expected failures, and ``expected_failure`` to build them;
* ``loaders.py``: ``context.loader(factory)``, one DataLoader per relation per request;
* ``extensions.py``: depth and cost limits, rollback on errors, introspection rules;
* ``<domain>.py``: any module defining ``Query``, ``Mutation`` and/or ``Subscription``
  (strawberry types) is discovered and merged; nothing shared needs editing.
"""
