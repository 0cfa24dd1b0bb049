"""A person's messages to a lead (through the send planner) and one message's status history."""
