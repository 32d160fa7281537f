"""The Flask application factory."""

from __future__ import annotations

from typing import Any

from flask import Flask

from server.config import Config, ConfigError
from server.db import make_engine, make_session_factory
from server.errors import register_error_handler
from server.ratelimit import RateLimiter, install_open_route_throttle
from server.request_log import configure_logging, install_request_logging
from server.services import Services


def refuse_links_without_public_url(config: Config) -> None:
    """Pay links (shown as a QR code, mailed to customers) are built from SHOPSMART_PUBLIC_URL
    only, never from a request's Host header: a server with card payments must be told it."""
    if config.payments_enabled and not config.public_url:
        raise ConfigError(
            "configuration refused: SHOPSMART_PUBLIC_URL is not set, and card payments are on "
            "(STRIPE_SECRET_KEY): set it to the address customers reach this server at, e.g. "
            "https://pos.example.com — pay links are built from it alone"
        )


def create_app(config: Config | None = None, *, mongo_client: Any = None) -> Flask:
    """Build the app for ``config`` (default: from the environment).

    ``mongo_client`` lets tests hand in a mongomock client; otherwise one is created when
    ``config.mongo_url`` is set. The database must be migrated (``shopsmart-server db
    upgrade``); the app never changes the schema itself.
    """
    from server.catalog import blueprint as catalog
    from server.delivery import blueprint as delivery
    from server.health import blueprint as health
    from server.openapi import bp as openapi_bp
    from server.orders import blueprint as orders
    from server.payments import blueprint as payments
    from server.payments import pay_page, phone_blueprint, webhooks
    from server.reports import blueprint as reports
    from server.sync import blueprint as sync
    from server.terminals import blueprint as terminals

    config = config or Config.from_env()
    refuse_links_without_public_url(config)
    configure_logging(config.log_level)
    app = Flask("server")
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.config["TESTING"] = config.testing
    app.json.sort_keys = False  # type: ignore[attr-defined]
    engine = make_engine(config.sqlalchemy_url, config.db_pool_size)
    if mongo_client is None and config.mongo_url:
        from pymongo import MongoClient

        mongo_client = MongoClient(config.mongo_url, tz_aware=True)
    svc = Services(
        config=config,
        engine=engine,
        sessions=make_session_factory(engine),
        rate_limiter=RateLimiter(config.rate_limit_per_minute, config.rate_limit_burst),
        mongo_client=mongo_client,
    )
    if mongo_client is not None:
        from server.catalog.repository import MongoCatalogRepository

        MongoCatalogRepository(mongo_client[config.mongo_db]).ensure_indexes()
    app.extensions["shopsmart"] = svc
    if config.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=config.trusted_proxies)  # type: ignore[method-assign]
    register_error_handler(app)
    install_open_route_throttle(
        app,
        RateLimiter(config.open_rate_limit_per_minute, config.open_rate_limit_burst),
        svc.sessions,
    )
    install_request_logging(app)
    for blueprint in (
        health.bp,
        terminals.bp,
        catalog.bp,
        sync.bp,
        orders.bp,
        delivery.bp,
        payments.bp,
        phone_blueprint.bp,
        webhooks.bp,
        pay_page.bp,
        reports.bp,
        openapi_bp,
    ):
        app.register_blueprint(blueprint)
    return app
