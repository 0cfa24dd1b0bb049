"""Follow-up sequences: the nudges an organisation sends when a lead goes quiet."""
