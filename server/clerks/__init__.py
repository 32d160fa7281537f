"""Clerks and approvals as the tills push them (issue 14): ``clerk.saved`` updates the
store's clerk (the newest change wins, pulled back by every till) and ``approval.used`` is
kept in the store's audit log."""
