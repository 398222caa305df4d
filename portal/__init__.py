"""The Marketplace Portal application factory."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from .config import DEVELOPMENT_SECRETS, Config, TestConfig

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: type[Config] | dict | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    if config is None:
        config = TestConfig if os.environ.get("PORTAL_ENV") == "test" else Config
    if isinstance(config, dict):
        app.config.from_object(Config)
        app.config.update(config)
    else:
        app.config.from_object(config)
    check_production_secrets(app.config)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_request_hooks(app)
    return app


class MissingSecrets(RuntimeError):
    """Production was started with a secret unset or left at its development default."""


def check_production_secrets(config) -> None:
    """In production, refuse to start while any secret is unset or still the development one."""
    if config.get("ENV_NAME") != "production":
        return
    missing = [
        name
        for name, development in DEVELOPMENT_SECRETS.items()
        if not config.get(name) or config.get(name) == development
    ]
    if missing:
        raise MissingSecrets(
            "PORTAL_ENV=production needs real secrets: set "
            + ", ".join(missing)
            + " in the environment (each a long random value, e.g. from "
            "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`)."
        )


def register_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (every model registered on the metadata)
    from .extensions import csrf, db, htmx, limiter, login_manager, mail, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), compare_type=True)
    csrf.init_app(app)
    htmx.init_app(app)
    limiter.init_app(app)
    mail.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    login_manager.login_message_category = "info"


def register_blueprints(app: Flask) -> None:
    from .admin.views import bp as admin_bp
    from .auth.second_factor_views import bp as second_factor_bp
    from .auth.views import bp as auth_bp
    from .cart.views import bp as cart_bp
    from .catalog.catalog_views import bp as vendor_catalog_bp
    from .catalog.matching_views import bp as catalog_matching_bp
    from .catalog.public_views import bp as catalog_public_bp
    from .catalog.remap_admin_views import bp as catalog_remaps_bp
    from .catalog.review.views import bp as catalog_review_bp
    from .catalog.views import bp as products_bp
    from .commissions.views import bp as commissions_bp
    from .customers.views import bp as customers_bp
    from .deliveries.admin_views import bp as admin_deliveries_bp
    from .deliveries.document_views import bp as driver_documents_bp
    from .deliveries.driver_admin_views import bp as admin_drivers_bp
    from .deliveries.position_views import bp as positions_bp
    from .deliveries.providers.webhooks import bp as provider_webhooks_bp
    from .deliveries.tracking_views import bp as tracking_bp
    from .deliveries.vendor_views import bp as vendor_deliveries_bp
    from .deliveries.views import bp as driver_bp
    from .loyalty.admin_views import bp as admin_points_bp
    from .loyalty.storefront import bp as points_api_bp
    from .loyalty.views import admin_bp as admin_loyalty_bp
    from .loyalty.views import bp as points_bp
    from .main.views import bp as main_bp
    from .media import bp as media_bp
    from .media import media_url, private_bp, private_url
    from .obfuscation.views import bp as obfuscation_bp
    from .operations.views import bp as operations_bp
    from .orders.vendor_views import bp as vendor_orders_bp
    from .orders.webhooks import bp as webhooks_bp
    from .payouts.driver_views import admin_bp as admin_driver_pay_bp
    from .payouts.driver_views import bp as driver_payouts_bp
    from .payouts.vendor_views import bp as payouts_bp
    from .payouts.webhooks import bp as stripe_webhooks_bp
    from .referrals.vendor_views import bp as vendor_referrals_bp
    from .referrals.views import bp as referrals_bp
    from .storefront.views import bp as storefront_bp
    from .vendors.public_views import bp as public_shops_bp
    from .vendors.shop_views import invitations_bp, shop_bp, staff_bp
    from .vendors.views import bp as vendor_bp

    for blueprint in (
        main_bp,
        media_bp,
        private_bp,
        auth_bp,
        second_factor_bp,
        admin_bp,
        operations_bp,
        admin_points_bp,
        vendor_bp,
        vendor_orders_bp,
        commissions_bp,
        products_bp,
        catalog_matching_bp,
        driver_bp,
        tracking_bp,
        vendor_deliveries_bp,
        admin_deliveries_bp,
        admin_drivers_bp,
        driver_documents_bp,
        positions_bp,
        customers_bp,
        points_bp,
        admin_loyalty_bp,
        webhooks_bp,
        points_api_bp,
        stripe_webhooks_bp,
        provider_webhooks_bp,
        obfuscation_bp,
        payouts_bp,
        driver_payouts_bp,
        admin_driver_pay_bp,
        shop_bp,
        staff_bp,
        invitations_bp,
        referrals_bp,
        public_shops_bp,
        cart_bp,
        vendor_referrals_bp,
        catalog_review_bp,
        vendor_catalog_bp,
        catalog_remaps_bp,
        catalog_public_bp,
        storefront_bp,
    ):
        app.register_blueprint(blueprint)
    app.jinja_env.globals["media_url"] = media_url
    from . import clock, money

    app.jinja_env.globals["money_text"] = money.money_text
    app.jinja_env.globals["rate_text"] = money.rate_text

    app.jinja_env.filters["localtime"] = clock.local_time
    clock.marketplace_zone(app)  # an unknown MARKETPLACE_TIMEZONE stops the start, with its name
    app.jinja_env.globals["private_url"] = private_url
    from . import row_urls, shell, status_labels
    from .deliveries import position_views

    shell.init_app(app)
    row_urls.init_app(app)
    status_labels.init_app(app)  # the words of order and delivery statuses
    position_views.init_app(app)  # position pings answered before Flask's request machinery
    from .referrals import redirects

    redirects.init_app(app)  # returning visitors' referral links, likewise
    from .operations import backups_status

    backups_status.init_app(app)  # the operations page's backup section


def register_errorhandlers(app: Flask) -> None:
    from .errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from .auth.cli import auth_cli, users_cli
    from .catalog.matching.cli import catalog_cli
    from .catalog.review import cli as _review_commands  # noqa: F401  (export-decisions)
    from .deliveries.cli import positions_cli
    from .operations.cli import ops_cli, partitions_cli
    from .payouts.cli import payouts_cli
    from .seed.cli import seed_cli
    from .tiers.cli import money_cli

    for group in (
        users_cli,
        auth_cli,
        partitions_cli,
        ops_cli,
        seed_cli,
        money_cli,
        payouts_cli,
        positions_cli,
        catalog_cli,
    ):
        app.cli.add_command(group)
    from .operations import backups_cli

    backups_cli.register(app)  # flask ops backup, restore-test, expire, recover, ...


def register_request_hooks(app: Flask) -> None:
    from . import inputs, read_requests, replica_routing
    from .security import apply_security_headers

    inputs.register(app)
    read_requests.register(app)
    replica_routing.init_app(app)
    app.after_request(apply_security_headers)
