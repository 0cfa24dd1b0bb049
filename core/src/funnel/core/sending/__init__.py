"""The send planner: the one gate every outbound message passes (bot, human, follow-up).

:func:`~funnel.core.sending.planner.plan_send` is the pure decision;
:mod:`funnel.core.sending.service` loads what it needs, applies it and queues the send.
"""
