"""The ShopSmart sync server: ``create_app(config)`` builds it (server.app)."""
