"""Mail: the mailers, the mails the shop sends and the dispatcher of the mail outbox."""
