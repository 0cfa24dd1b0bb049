"""WhatsApp message templates: local drafts validated against Meta's limits, submission,
status sync (on demand and from ``message_template_status_update`` webhooks), deletion."""
