"""WhatsApp channels: connect (checked against the Graph API), write-only secrets, disconnect."""
