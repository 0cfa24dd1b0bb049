"""Calls to action the bot may offer (book a call, send a link, visit…)."""
