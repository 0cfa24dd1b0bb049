"""WhatsApp Cloud API: webhook models and signatures, and the Graph API client."""
