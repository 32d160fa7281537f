"""ShopSmart POS: the shop's rules and use cases (pure Python, no Qt, no SQL, no web)."""
