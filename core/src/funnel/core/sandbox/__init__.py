"""The WhatsApp sandbox: a fake Graph API for tests and ``funnel dev``.

``create_sandbox_app`` lives in :mod:`funnel.core.sandbox.app`; it is not imported here so that
``funnel --help`` works where Starlette (the ``local`` extra) is not installed.
"""
