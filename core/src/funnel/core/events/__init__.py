"""Live updates across processes: PostgreSQL NOTIFY inside the writer's transaction, LISTEN in
every API replica, fanned out in process to the subscribers of the event's organisation."""

from funnel.core.events.publisher import CHANNEL, Event, EventType, emit

__all__ = ["CHANNEL", "Event", "EventType", "emit"]
