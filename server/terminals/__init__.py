"""Terminals: enrollment, bearer tokens and the caller of a request."""
