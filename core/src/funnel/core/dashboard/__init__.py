"""The dashboard's KPIs for a date range in the organisation's timezone."""
