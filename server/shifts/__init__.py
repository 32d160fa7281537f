"""Shifts, cash movements and Z reports as the tills push them (issue 14)."""
