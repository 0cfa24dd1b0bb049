"""Leads: the organisation's contacts, their tags and notes, CSV import/export and GDPR rights."""
