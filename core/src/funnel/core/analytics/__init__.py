"""Analytics over a date range in the organisation's own timezone."""
