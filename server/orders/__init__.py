"""Orders: the orders the shop takes and the rules applied to them."""
