"""The outbox: every send is a row first, delivered by the sender."""
