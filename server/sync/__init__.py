"""Sync: the push and pull of the terminals and the change log behind the pull."""
