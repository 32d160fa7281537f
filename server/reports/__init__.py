"""Manager reports: SQL over what the tills synced, in the store's time zone."""
