"""Admin: what an operator does from the command line (stores, clerks, products)."""
