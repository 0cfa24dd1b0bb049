"""The worker process: resources, handlers, the outbox sender, the app."""
