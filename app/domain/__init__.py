"""Value objects and entities of the shop."""
