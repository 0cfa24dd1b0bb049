"""Scheduled actions: follow-ups, resuming after a ``wait``, handing a human takeover back to the
bot, and the template fallback after a 131047. Rows in ``scheduled_actions`` are claimed with
``FOR UPDATE SKIP LOCKED`` and re-enter Kafka on the conversation's key (see
:mod:`funnel.core.scheduling.actions`); :mod:`funnel.core.scheduling.handlers` carries them out.
"""
