"""Payments: card payments through Stripe, the pay page and Stripe's webhooks."""
