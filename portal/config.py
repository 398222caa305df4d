"""Settings, read from the environment with safe development defaults.

Every business rate, threshold and schedule lives here so that no feature module carries a literal.
"""

import os
from datetime import timedelta
from decimal import Decimal


def _env(name: str, default: str) -> str:
    return os.environ.get(name, default)


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _env_float_or_none(name: str) -> float | None:
    value = os.environ.get(name, "").strip()
    return float(value) if value else None


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def sqlalchemy_database_url(url: str) -> str:
    """The URL SQLAlchemy needs for PostgreSQL through psycopg 3.

    Hosting providers give ``postgres://`` or ``postgresql://`` URLs; SQLAlchemy reads the first
    not at all and the second as psycopg2, which the portal doesn't install. Both become
    ``postgresql+psycopg://``; a URL that names its driver already is left as it is.
    """
    scheme, separator, rest = url.strip().partition("://")
    if separator and scheme.lower() in {"postgres", "postgresql"}:
        return f"postgresql+psycopg://{rest}"
    return url


# Secrets with a development default. Production refuses to start while any of them is unset or
# still equal to its default (portal/__init__.py: check_production_secrets); later features add
# theirs here.
DEVELOPMENT_SECRETS = {
    "SECRET_KEY": "dev-only-secret-key-change-me",
    "ORDER_WEBHOOK_SECRET": "dev-order-webhook-secret",
    # Stripe: in development and tests these are the local Stripe server's (docs/payouts.md).
    "STRIPE_SECRET_KEY": "sk_test_local_development",
    "STRIPE_WEBHOOK_SECRET": "whsec_local_platform_development",
    "STRIPE_CONNECT_WEBHOOK_SECRET": "whsec_local_connect_development",
    # DoorDash Drive: in development and tests the local DoorDash server's (docs/deliveries.md).
    # The signing secret is base64url, as DoorDash hands it out.
    "DOORDASH_DEVELOPER_ID": "local-developer",
    "DOORDASH_KEY_ID": "local-key",
    "DOORDASH_SIGNING_SECRET": "bG9jYWwtZG9vcmRhc2gtc2lnbmluZy1zZWNyZXQtZGV2ZWxvcG1lbnQ",
    # What DoorDash sends in the Authorization header of its webhooks (set in its portal).
    "DOORDASH_WEBHOOK_AUTHORIZATION": "Bearer local-doordash-webhook-development",
}

STRIPE_API = "https://api.stripe.com"
# python -m portal.payouts.stripe_local listens here by default.
LOCAL_STRIPE_API = "http://127.0.0.1:12111"
DOORDASH_API = "https://openapi.doordash.com"
# python -m portal.deliveries.providers.doordash_local listens here by default.
LOCAL_DOORDASH_API = "http://127.0.0.1:12112"
LOCAL_GEOCODER_URL = "http://127.0.0.1:12113"
NOMINATIM_URL = "https://nominatim.openstreetmap.org"


def _secret(name: str) -> str:
    return _env(name, DEVELOPMENT_SECRETS[name])


class Config:
    ENV_NAME = _env("PORTAL_ENV", "development")
    SECRET_KEY = _secret("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = sqlalchemy_database_url(
        _env("DATABASE_URL", "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/portal")
    )
    # No ping before each checkout: it was one round trip in seven of a vendor page. A connection
    # that PostgreSQL dropped fails one statement, and SQLAlchemy then discards the whole pool
    # (docs/performance.md). DATABASE_POOL_PRE_PING=1 brings the ping back.
    # Every session runs in UTC, whatever the server's default: now() and CURRENT_TIMESTAMP
    # defaults (in timestamp-without-time-zone columns) are then UTC, as docs/schema.md designs.
    SQLALCHEMY_ENGINE_OPTIONS = {
        "pool_pre_ping": _env_bool("DATABASE_POOL_PRE_PING", False),
        "connect_args": {"options": "-c TimeZone=UTC"},
    }
    # The zone pages show times in (the marketplace's city); money months stay UTC months.
    MARKETPLACE_TIMEZONE = _env("MARKETPLACE_TIMEZONE", "America/Los_Angeles")
    REDIS_URL = _env("REDIS_URL", "redis://127.0.0.1:6379/0")

    # Sessions and cookies: Secure everywhere but local development.
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", ENV_NAME != "development")
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    PERMANENT_SESSION_LIFETIME = timedelta(hours=_env_int("SESSION_HOURS", 12))

    WTF_CSRF_TIME_LIMIT = None  # tied to the session instead, so long-open pages keep working
    WTF_CSRF_HEADERS = ["X-CSRFToken"]

    # Sign-in rate limits (Flask-Limiter syntax), counted in Redis, failures only: per account and
    # address pair (so nobody elsewhere can lock a person out), and a wider one per address.
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", REDIS_URL)
    RATELIMIT_KEY_PREFIX = _env("RATELIMIT_KEY_PREFIX", "portal-limits")
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_ADDRESS = _env("LOGIN_LIMIT_PER_ADDRESS", "20 per 5 minutes")
    LOGIN_LIMIT_PER_ACCOUNT_ADDRESS = _env("LOGIN_LIMIT_PER_ACCOUNT_ADDRESS", "5 per 5 minutes")

    # Background jobs.
    RQ_QUEUES = ["high", "default", "low"]
    RQ_KEY_PREFIX = _env("RQ_KEY_PREFIX", "portal")

    # Partitions: how many periods ahead of the current one exist at all times.
    PARTITION_MONTHS_AHEAD = _env_int("PARTITION_MONTHS_AHEAD", 3)
    PARTITION_YEARS_AHEAD = _env_int("PARTITION_YEARS_AHEAD", 1)

    # A job row committed as queued whose RQ job is missing this long is enqueued again.
    QUEUED_JOB_GRACE_SECONDS = _env_int("QUEUED_JOB_GRACE_SECONDS", 60)

    # Commission by shop tier, and the monthly sales that earn each tier.
    TIER_COMMISSION_RATES = {
        "bronze": Decimal(_env("COMMISSION_RATE_BRONZE", "0.1500")),
        "silver": Decimal(_env("COMMISSION_RATE_SILVER", "0.1200")),
        "gold": Decimal(_env("COMMISSION_RATE_GOLD", "0.1000")),
    }
    TIER_SALES_THRESHOLDS = {
        "silver": Decimal(_env("TIER_SILVER_FROM", "5000")),
        "gold": Decimal(_env("TIER_GOLD_FROM", "20000")),
    }

    # Kinds of shop (each has its own platform-fee schedule) and of driver vehicle.
    VENDOR_TYPES = ("shop", "restaurant", "grocery")
    VEHICLE_TYPES = ("bicycle", "scooter", "motorcycle", "car", "van")
    PASSWORD_MIN_LENGTH = _env_int("PASSWORD_MIN_LENGTH", 10)

    # An order through the shop's own referral link within the window pays this commission instead.
    REFERRAL_COMMISSION_RATE = Decimal(_env("REFERRAL_COMMISSION_RATE", "0.0000"))
    REFERRAL_ATTRIBUTION_DAYS = _env_int("REFERRAL_ATTRIBUTION_DAYS", 30)
    # The link /r/<code> (portal/referrals): the first-party cookie naming the visitor (signed,
    # SameSite=Lax, Secure like the session's, living the attribution window); the external
    # storefronts ``?to=`` may send a visitor on to (host names, comma-separated; any other host
    # goes to the shop's own page); user agents containing any of these words (case-insensitive)
    # are robots, whose visits are not counted (an empty user agent is not counted either).
    REFERRAL_COOKIE_NAME = _env("REFERRAL_COOKIE_NAME", "portal_ref")
    REFERRAL_REDIRECT_HOSTS = tuple(
        host.strip().lower()
        for host in _env("REFERRAL_REDIRECT_HOSTS", "").split(",")
        if host.strip()
    )
    REFERRAL_BOT_USER_AGENTS = tuple(
        word.strip().lower()
        for word in _env(
            "REFERRAL_BOT_USER_AGENTS",
            "bot,crawler,spider,slurp,facebookexternalhit,embedly,preview,headlesschrome,"
            "lighthouse,curl,wget,python-requests,python-urllib,httpclient,go-http-client",
        ).split(",")
        if word.strip()
    )
    # A returning visitor's follow of a link is answered from a per-process cache of the codes
    # (portal/referrals/redirects.py): a regenerated code or a disabled shop is seen this late.
    REFERRAL_CODE_CACHE_SECONDS = _env_int("REFERRAL_CODE_CACHE_SECONDS", 30)
    # First visits of a cached code go through a Redis stream the worker applies in batches
    # (portal/referrals/buffer.py); off, every first visit is written by the request itself.
    REFERRAL_VISIT_BUFFER = _env_bool("REFERRAL_VISIT_BUFFER", True)
    REFERRAL_VISIT_STREAM_MAXLEN = _env_int("REFERRAL_VISIT_STREAM_MAXLEN", 500_000)
    REFERRAL_VISIT_BATCH_SIZE = _env_int("REFERRAL_VISIT_BATCH_SIZE", 1000)
    REFERRAL_VISIT_BATCH_PAUSE_MS = _env_int("REFERRAL_VISIT_BATCH_PAUSE_MS", 200)
    # Retention: unconverted visits older than this are deleted nightly, this many rows per
    # transaction (the daily statistics keep their counts).
    REFERRAL_RETENTION_DAYS = _env_int("REFERRAL_RETENTION_DAYS", 90)
    REFERRAL_DELETE_BATCH = _env_int("REFERRAL_DELETE_BATCH", 5000)
    # The shop's public page lists this many products a page.
    SHOP_PAGE_PRODUCTS_PER_PAGE = _env_int("SHOP_PAGE_PRODUCTS_PER_PAGE", 48)
    # The most of one product a cart holds (portal/cart/service.py), whatever the stock.
    CART_MAX_QUANTITY = _env_int("CART_MAX_QUANTITY", 99)
    CART_COUNT_POLL_SECONDS = _env_int("CART_COUNT_POLL_SECONDS", 120)
    # The storefront's catalog search (portal/storefront/search.py): products a page, and how
    # deep a result list goes (the pager says "1,000+" past it).
    STOREFRONT_PER_PAGE = _env_int("STOREFRONT_PER_PAGE", 24)
    STOREFRONT_MAX_RESULTS = _env_int("STOREFRONT_MAX_RESULTS", 1000)

    # Loyalty points (portal/loyalty/rules.py reads these): points per $1 of merchandise paid for
    # with money, times the tier's multiplier; tiers by lifetime earned points; what a point is
    # worth at redemption; how long earned points last; how long an unpaid order's hold lives.
    POINTS_PER_DOLLAR = Decimal(_env("POINTS_PER_DOLLAR", "1"))
    POINTS_TIER_MULTIPLIERS = {
        "bronze": Decimal(_env("POINTS_BRONZE_MULTIPLIER", "1")),
        "silver": Decimal(_env("POINTS_SILVER_MULTIPLIER", "1.25")),
        "gold": Decimal(_env("POINTS_GOLD_MULTIPLIER", "1.5")),
    }
    POINTS_TIER_THRESHOLDS = {
        "bronze": 0,
        "silver": _env_int("POINTS_SILVER_FROM", 1000),
        "gold": _env_int("POINTS_GOLD_FROM", 5000),
    }
    POINTS_PER_DOLLAR_REDEEMED = _env_int("POINTS_PER_DOLLAR_REDEEMED", 100)
    POINTS_EXPIRY_MONTHS = _env_int("POINTS_EXPIRY_MONTHS", 12)
    POINTS_HOLD_MINUTES = _env_int("POINTS_HOLD_MINUTES", 60)

    # Platform fee by vendor type and monthly volume tier: (tier name, sales below, rate); the
    # last tier has no upper bound. The tier in force in a month comes from the previous month.
    PLATFORM_FEE_SCHEDULES = {
        "shop": (
            ("standard", Decimal("10000"), Decimal("0.0290")),
            ("growth", Decimal("50000"), Decimal("0.0250")),
            ("scale", None, Decimal("0.0220")),
        ),
        "restaurant": (
            ("standard", Decimal("10000"), Decimal("0.0320")),
            ("growth", Decimal("50000"), Decimal("0.0290")),
            ("scale", None, Decimal("0.0250")),
        ),
        "grocery": (
            ("standard", Decimal("10000"), Decimal("0.0250")),
            ("growth", Decimal("50000"), Decimal("0.0220")),
            ("scale", None, Decimal("0.0190")),
        ),
    }
    # A new vendor's first days pay the promotional platform fee.
    NEW_VENDOR_PROMO_DAYS = _env_int("NEW_VENDOR_PROMO_DAYS", 90)
    NEW_VENDOR_PROMO_FEE_RATE = Decimal(_env("NEW_VENDOR_PROMO_FEE_RATE", "0.0000"))

    # Commissions settle once an order is completed and its return window has passed.
    RETURN_WINDOW_DAYS = _env_int("RETURN_WINDOW_DAYS", 7)
    # A paid order the storefront never completes counts as completed this long after payment
    # (unless an admin holds it): portal/orders/completion.py.
    ORDER_AUTO_COMPLETE_DAYS = _env_int("ORDER_AUTO_COMPLETE_DAYS", 14)
    # A close still "running" after this long lost its worker (the job times out after 30 min).
    MONTH_CLOSE_STALE_MINUTES = _env_int("MONTH_CLOSE_STALE_MINUTES", 45)
    PROMOTION_MAX_DAYS = _env_int("PROMOTION_MAX_DAYS", 366)
    # Vendor types without a fee schedule of their own pay this one's.
    FALLBACK_VENDOR_TYPE = "shop"
    PROMOTION_REASONS = ("launch", "retention", "partnership", "seasonal", "service_recovery")

    # A shop's first order is #1001 (then #1002, ...): a new shop's orders do not read as its
    # first few to the customer (portal/orders/numbers.py).
    FIRST_ORDER_NUMBER = _env_int("FIRST_ORDER_NUMBER", 1001)

    # Signed order events from an external storefront.
    ORDER_WEBHOOK_SECRET = _secret("ORDER_WEBHOOK_SECRET")
    ORDER_WEBHOOK_TOLERANCE_SECONDS = _env_int("ORDER_WEBHOOK_TOLERANCE_SECONDS", 300)

    # Shop pages: uploads, staff invitations, bulk product imports.
    MAX_CONTENT_LENGTH = _env_int("MAX_UPLOAD_BYTES", 16 * 1024 * 1024)
    LOGO_MAX_PIXELS = _env_int("LOGO_MAX_PIXELS", 512)
    PRODUCT_IMAGE_MAX_PIXELS = _env_int("PRODUCT_IMAGE_MAX_PIXELS", 1600)
    # An upload declaring more pixels than this is refused before it is decoded (decompression
    # bombs); 50 MP is above any phone camera's photo.
    IMAGE_MAX_SOURCE_PIXELS = _env_int("IMAGE_MAX_SOURCE_PIXELS", 50_000_000)
    STAFF_INVITATION_DAYS = _env_int("STAFF_INVITATION_DAYS", 7)
    PRODUCT_IMPORT_MAX_ROWS = _env_int("PRODUCT_IMPORT_MAX_ROWS", 50_000)
    NEW_ORDERS_POLL_SECONDS = _env_int("NEW_ORDERS_POLL_SECONDS", 15)
    # The admin sidebar's counts (orders waiting, drivers to verify, failed jobs): how often the
    # sidebar asks again, and how long a count without an index of its own is kept in Redis.
    ADMIN_COUNT_POLL_SECONDS = _env_int("ADMIN_COUNT_POLL_SECONDS", 60)
    ADMIN_COUNT_CACHE_SECONDS = _env_int("ADMIN_COUNT_CACHE_SECONDS", 60)

    MEDIA_ROOT = _env("MEDIA_ROOT", os.path.join(os.getcwd(), "media"))
    # A shop's non-public uploads (CSV imports): outside MEDIA_ROOT, never served as /media.
    PRIVATE_MEDIA_ROOT = _env(
        "PRIVATE_MEDIA_ROOT", os.path.join(os.getcwd(), "var", "private-media")
    )
    # The shop's pickup map. An empty tile URL shows the map without tiles (no internet); another
    # tile server must also be allowed in the CSP's img-src (portal/security.py).
    MAP_TILE_URL = _env("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
    MAP_TILE_ATTRIBUTION = _env("MAP_TILE_ATTRIBUTION", "© OpenStreetMap contributors")
    PUBLIC_URL = _env("PUBLIC_URL", "http://127.0.0.1:8000")

    # --- accounts: passwords, sessions, sign-up, mail ----------------------------------------
    # Werkzeug's method string; the tests use a cheap one (TestConfig).
    PASSWORD_HASH_METHOD = _env("PASSWORD_HASH_METHOD", "scrypt")
    PASSWORD_MAX_LENGTH = _env_int("PASSWORD_MAX_LENGTH", 128)
    # Sign-ups and password-reset requests (each sends a mail), per address and per email.
    SIGNUP_LIMIT_PER_ADDRESS = _env("SIGNUP_LIMIT_PER_ADDRESS", "10 per hour")
    SIGNUP_LIMIT_PER_EMAIL = _env("SIGNUP_LIMIT_PER_EMAIL", "3 per hour")
    # How long the links in account mails work.
    SIGNUP_LINK_HOURS = _env_int("SIGNUP_LINK_HOURS", 48)
    PASSWORD_RESET_MINUTES = _env_int("PASSWORD_RESET_MINUTES", 60)
    EMAIL_VERIFY_HOURS = _env_int("EMAIL_VERIFY_HOURS", 48)
    # "smtp" sends through MAIL_SERVER; "file" writes each message to MAIL_FOLDER (development
    # and the demo: read them on the admin's Sent mail page).
    MAIL_BACKEND = _env("MAIL_BACKEND", "file" if ENV_NAME == "development" else "smtp")
    MAIL_FOLDER = _env("MAIL_FOLDER", os.path.join(os.getcwd(), "var", "mail"))
    MAIL_SERVER = _env("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = _env_int("MAIL_PORT", 25)
    MAIL_USE_TLS = _env_bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _env_bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = _env("MAIL_DEFAULT_SENDER", "Marketplace Portal <portal@localhost>")
    MAIL_SUPPRESS_SEND = False  # Flask-Mail would suppress sending whenever TESTING is on

    # --- admins' second factor (docs/accounts.md) -------------------------------------------
    # A money action needs a TOTP code (or a recovery code) proved in this session this recently;
    # regenerating recovery codes needs a fresher one.
    ADMIN_SECOND_FACTOR_MINUTES = _env_int("ADMIN_SECOND_FACTOR_MINUTES", 15)
    ADMIN_SECOND_FACTOR_FRESH_MINUTES = _env_int("ADMIN_SECOND_FACTOR_FRESH_MINUTES", 5)
    # Failed code attempts per admin account (Flask-Limiter syntax), counted in Redis.
    SECOND_FACTOR_LIMIT = _env("SECOND_FACTOR_LIMIT", "5 per 5 minutes")
    SECOND_FACTOR_ISSUER = _env("SECOND_FACTOR_ISSUER", "Marketplace Portal")
    RECOVERY_CODE_COUNT = _env_int("RECOVERY_CODE_COUNT", 10)
    # Earlier SECRET_KEYs still open the second-factor secrets sealed with them (and, in Flask,
    # old session cookies): comma-separated, newest first. Rotate by moving the old key here.
    SECRET_KEY_FALLBACKS = [k for k in _env("SECRET_KEY_FALLBACKS", "").split(",") if k]

    # --- payouts: Stripe Connect (docs/payouts.md) ---------------------------------------------
    STRIPE_SECRET_KEY = _secret("STRIPE_SECRET_KEY")
    # Each webhook endpoint has its own signing secret: the platform's and Connect's.
    STRIPE_WEBHOOK_SECRET = _secret("STRIPE_WEBHOOK_SECRET")
    STRIPE_CONNECT_WEBHOOK_SECRET = _secret("STRIPE_CONNECT_WEBHOOK_SECRET")
    # Stripe itself, except in development and tests: the local Stripe server.
    STRIPE_API_BASE = _env(
        "STRIPE_API_BASE", LOCAL_STRIPE_API if ENV_NAME in {"development", "test"} else STRIPE_API
    )
    STRIPE_WEBHOOK_TOLERANCE_SECONDS = _env_int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", 300)
    STRIPE_TIMEOUT_SECONDS = _env_int("STRIPE_TIMEOUT_SECONDS", 30)
    # A call answered 429, 5xx or not at all is tried this many times in all, waiting
    # base * 2^n seconds (at most the max, with jitter) between attempts.
    STRIPE_MAX_ATTEMPTS = _env_int("STRIPE_MAX_ATTEMPTS", 4)
    STRIPE_RETRY_BASE_SECONDS = float(_env("STRIPE_RETRY_BASE_SECONDS", "0.5"))
    STRIPE_RETRY_MAX_SECONDS = float(_env("STRIPE_RETRY_MAX_SECONDS", "8"))
    STRIPE_ACCOUNT_COUNTRY = _env("STRIPE_ACCOUNT_COUNTRY", "US")
    PAYOUT_CURRENCY = _env("PAYOUT_CURRENCY", "usd")
    # Payout runs (docs/payouts.md "Payout runs"). A vendor whose net is below the minimum waits
    # (hold "below_minimum"). A negative net is carried until later sales cover it ("carry"), or
    # recovered by reversing an earlier transfer that has enough left ("reverse"; recovery.py).
    PAYOUT_MINIMUM = Decimal(_env("PAYOUT_MINIMUM", "1.00"))
    PAYOUT_NEGATIVE_NET = _env("PAYOUT_NEGATIVE_NET", "carry")
    # A transfer first sent longer ago than this is looked up before it is sent again: Stripe
    # forgets idempotency keys after 24 hours, so the margin stays under that.
    PAYOUT_KEY_MEMORY_HOURS = float(_env("PAYOUT_KEY_MEMORY_HOURS", "23"))
    # Records the marking job writes paid per commit, after a run (portal/payouts/marking.py):
    # each batch is a short transaction of its own.
    PAYOUT_MARK_BATCH_RECORDS = _env_int("PAYOUT_MARK_BATCH_RECORDS", 5000)
    # Payouts a run sends per batch: one commit saves their keys before the calls, one their
    # statuses after (portal/payouts/runs.py, _send_batch).
    PAYOUT_SEND_BATCH = _env_int("PAYOUT_SEND_BATCH", 100)
    # Drivers' earnings (pay plus tip) settle like commissions: this many days after the
    # delivery (the return window's length by default), by the daily settle job; then the payout
    # run pays them. A return after that does not take a driver's pay back: the work was done.
    DRIVER_EARNINGS_SETTLE_DAYS = _env_int(
        "DRIVER_EARNINGS_SETTLE_DAYS", _env_int("RETURN_WINDOW_DAYS", 7)
    )

    # --- deliveries: the external provider, DoorDash Drive (docs/deliveries.md) ---------------
    # Where a delivery goes when the shop chooses it or no driver is in range.
    EXTERNAL_DELIVERY_PROVIDER = _env("EXTERNAL_DELIVERY_PROVIDER", "doordash")
    DOORDASH_DEVELOPER_ID = _secret("DOORDASH_DEVELOPER_ID")
    DOORDASH_KEY_ID = _secret("DOORDASH_KEY_ID")
    DOORDASH_SIGNING_SECRET = _secret("DOORDASH_SIGNING_SECRET")
    DOORDASH_WEBHOOK_AUTHORIZATION = _secret("DOORDASH_WEBHOOK_AUTHORIZATION")
    # DoorDash itself, except in development and tests: the local DoorDash server.
    DOORDASH_API_BASE = _env(
        "DOORDASH_API_BASE",
        LOCAL_DOORDASH_API if ENV_NAME in {"development", "test"} else DOORDASH_API,
    )
    # The JWT of each call lives this long (DoorDash accepts at most 30 minutes).
    DOORDASH_JWT_SECONDS = _env_int("DOORDASH_JWT_SECONDS", 300)
    DOORDASH_TIMEOUT_SECONDS = _env_int("DOORDASH_TIMEOUT_SECONDS", 20)
    # A call answered 429, 5xx or not at all is tried this many times, waiting base * 2^n s.
    DOORDASH_MAX_ATTEMPTS = _env_int("DOORDASH_MAX_ATTEMPTS", 3)
    DOORDASH_RETRY_BASE_SECONDS = float(_env("DOORDASH_RETRY_BASE_SECONDS", "0.5"))
    # A quote is accepted only while this many seconds of its validity are left; otherwise the
    # delivery is created outright (DoorDash's quotes are valid for 5 minutes).
    DOORDASH_QUOTE_MARGIN_SECONDS = _env_int("DOORDASH_QUOTE_MARGIN_SECONDS", 30)
    # The marketplace's support line: given to the provider when the shop or the customer has
    # no phone number on file (DoorDash needs one at each end).
    DELIVERY_SUPPORT_PHONE = _env("DELIVERY_SUPPORT_PHONE", "+1 503 555 0100")
    # Phone numbers without a country code are in this one (E.164's +1: US and Canada).
    PHONE_DEFAULT_COUNTRY_CODE = _env("PHONE_DEFAULT_COUNTRY_CODE", "1")

    # --- deliveries: the geocoder for dropoffs without a point (docs/deliveries.md) -------------
    # Nominatim's /search API: the local stand-in in development, OpenStreetMap's otherwise
    # (its usage policy: an identifying User-Agent, at most one request a second). Empty: off.
    GEOCODER_URL = _env(
        "GEOCODER_URL", LOCAL_GEOCODER_URL if ENV_NAME in {"development", "test"} else NOMINATIM_URL
    )
    GEOCODER_USER_AGENT = _env(
        "GEOCODER_USER_AGENT", "marketplace-portal/1.0 (deliveries; ops@marketplace.example)"
    )
    # Asked while the shop's "Ready for pickup" waits: a short wait, then the delivery is flagged.
    GEOCODER_TIMEOUT_SECONDS = float(_env("GEOCODER_TIMEOUT_SECONDS", "3"))
    # Proof of delivery asked of the Dasher: "photo", "pin_code" or "none"; and a signature.
    DOORDASH_PROOF_OF_DELIVERY = _env("DOORDASH_PROOF_OF_DELIVERY", "photo")
    DOORDASH_REQUIRE_SIGNATURE = _env_bool("DOORDASH_REQUIRE_SIGNATURE", False)
    # The tip added for the Dasher, in dollars (the platform pays it).
    DOORDASH_TIP = Decimal(_env("DOORDASH_TIP", "0.00"))
    # --- deliveries: pricing and dispatch to the marketplace's drivers (docs/deliveries.md) -----
    # A trip is the great-circle distance times the road factor (streets are not straight), driven
    # at the average speed: distance / speed is its ETA.
    DELIVERY_ROAD_FACTOR = Decimal(_env("DELIVERY_ROAD_FACTOR", "1.30"))
    DELIVERY_SPEED_MPH = Decimal(_env("DELIVERY_SPEED_MPH", "15"))
    # The driver's pay for a delivery: base + per mile + per minute of the trip, at least the
    # minimum (also what a delivery whose dropoff has no coordinates pays).
    DRIVER_PAY_BASE = Decimal(_env("DRIVER_PAY_BASE", "2.50"))
    DRIVER_PAY_PER_MILE = Decimal(_env("DRIVER_PAY_PER_MILE", "0.70"))
    DRIVER_PAY_PER_MINUTE = Decimal(_env("DRIVER_PAY_PER_MINUTE", "0.15"))
    DRIVER_PAY_MINIMUM = Decimal(_env("DRIVER_PAY_MINIMUM", "4.00"))
    # The customer's delivery fee, as checkout quotes it: base + per mile beyond the included
    # miles, at least the minimum (portal/deliveries/pricing.py: delivery_fee).
    DELIVERY_FEE_BASE = Decimal(_env("DELIVERY_FEE_BASE", "2.99"))
    DELIVERY_FEE_PER_MILE = Decimal(_env("DELIVERY_FEE_PER_MILE", "0.75"))
    DELIVERY_FEE_INCLUDED_MILES = Decimal(_env("DELIVERY_FEE_INCLUDED_MILES", "2"))
    DELIVERY_FEE_MINIMUM = Decimal(_env("DELIVERY_FEE_MINIMUM", "2.99"))
    # Dispatch: the nearest available drivers within the radius are offered a delivery one at a
    # time; this many nearest are read per try; after this many offers (declined or let expire),
    # or with nobody in range, it goes to EXTERNAL_DELIVERY_PROVIDER.
    DISPATCH_RADIUS_MILES = Decimal(_env("DISPATCH_RADIUS_MILES", "5"))
    DISPATCH_CANDIDATES = _env_int("DISPATCH_CANDIDATES", 5)
    DISPATCH_MAX_OFFERS = _env_int("DISPATCH_MAX_OFFERS", 3)
    # An offer the driver neither accepts nor declines expires after this long (the minutely sweep
    # passes it on); a delivery still looking for a driver with no offer out this long (its
    # dispatch job was lost) is dispatched again by the same sweep.
    DISPATCH_OFFER_SECONDS = _env_int("DISPATCH_OFFER_SECONDS", 60)
    DISPATCH_STALE_SECONDS = _env_int("DISPATCH_STALE_SECONDS", 120)
    # The driver's phone asks for a new offer this often while online and free.
    DRIVER_OFFER_POLL_SECONDS = _env_int("DRIVER_OFFER_POLL_SECONDS", 5)
    # Proof of delivery: the customer's PIN (digits; wrong tries allowed per delivery), a drawn
    # signature (a PNG of at most this many bytes), a photo (stored at most this many pixels).
    DELIVERY_PIN_DIGITS = _env_int("DELIVERY_PIN_DIGITS", 4)
    DELIVERY_PIN_MAX_ATTEMPTS = _env_int("DELIVERY_PIN_MAX_ATTEMPTS", 5)
    DELIVERY_SIGNATURE_MAX_BYTES = _env_int("DELIVERY_SIGNATURE_MAX_BYTES", 300_000)
    DELIVERY_PHOTO_MAX_PIXELS = _env_int("DELIVERY_PHOTO_MAX_PIXELS", 1600)
    # --- deliveries: the customer's tracking page, the vendor's and admin's views ---------------
    # (docs/deliveries.md, "Tracking"). A tracking link works until this long after the delivery
    # ended (delivered, cancelled or returned), then says it has expired.
    TRACKING_LINK_HOURS_AFTER_END = _env_int("TRACKING_LINK_HOURS_AFTER_END", 24)
    # How often the tracking page asks for the status again while the delivery is under way.
    TRACKING_POLL_SECONDS = _env_int("TRACKING_POLL_SECONDS", 10)
    DELIVERY_RATING_COMMENT_MAX = _env_int("DELIVERY_RATING_COMMENT_MAX", 500)
    # The admin's live board: how often it asks again, and how many rows of each kind it draws.
    DELIVERY_BOARD_POLL_SECONDS = _env_int("DELIVERY_BOARD_POLL_SECONDS", 10)
    DELIVERY_BOARD_MAX_DELIVERIES = _env_int("DELIVERY_BOARD_MAX_DELIVERIES", 200)
    DELIVERY_BOARD_MAX_DRIVERS = _env_int("DELIVERY_BOARD_MAX_DRIVERS", 500)
    # The board also lists the deliveries cancelled or returned this many hours back.
    DELIVERY_BOARD_ENDED_HOURS = _env_int("DELIVERY_BOARD_ENDED_HOURS", 24)
    DELIVERY_CANCEL_REASON_MAX = _env_int("DELIVERY_CANCEL_REASON_MAX", 300)
    # --- drivers: documents, verification, positions (docs/deliveries.md, "Drivers") ----------
    # An insurance document (a PDF, or a JPEG/PNG/WebP photo of it) is at most this large; a
    # photo is kept at most this many pixels on its long side (re-encoded, its metadata dropped).
    DRIVER_DOCUMENT_MAX_BYTES = _env_int("DRIVER_DOCUMENT_MAX_BYTES", 8 * 1024 * 1024)
    DRIVER_DOCUMENT_MAX_PIXELS = _env_int("DRIVER_DOCUMENT_MAX_PIXELS", 2400)
    DRIVER_VERIFICATION_NOTE_MAX = _env_int("DRIVER_VERIFICATION_NOTE_MAX", 1000)
    DRIVER_QUEUE_PER_PAGE = _env_int("DRIVER_QUEUE_PER_PAGE", 50)
    # Position pings: the phone sends at most one every POSITION_MIN_SECONDS, and only once it
    # moved POSITION_MIN_METERS (static/js/driver_positions.js); the page's signed token works
    # POSITION_TOKEN_HOURS. A ping captured further back than POSITION_MAX_AGE_SECONDS, or ahead
    # of the server's clock by more than POSITION_CLOCK_SKEW_SECONDS, is refused.
    POSITION_MIN_SECONDS = _env_int("POSITION_MIN_SECONDS", 5)
    POSITION_MIN_METERS = _env_int("POSITION_MIN_METERS", 20)
    POSITION_TOKEN_HOURS = _env_int("POSITION_TOKEN_HOURS", 16)
    POSITION_MAX_AGE_SECONDS = _env_int("POSITION_MAX_AGE_SECONDS", 3600)
    POSITION_CLOCK_SKEW_SECONDS = _env_int("POSITION_CLOCK_SKEW_SECONDS", 120)
    # The Redis stream the endpoint appends to (prefixed by RQ_KEY_PREFIX), trimmed to about
    # this many entries; the worker reads it in batches of POSITION_BATCH_SIZE.
    POSITION_STREAM_MAXLEN = _env_int("POSITION_STREAM_MAXLEN", 200_000)
    POSITION_BATCH_SIZE = _env_int("POSITION_BATCH_SIZE", 1000)
    POSITION_BLOCK_MS = _env_int("POSITION_BLOCK_MS", 500)
    # After a batch smaller than POSITION_BATCH_SIZE the consumer waits this long, so the next
    # batch gathers more pings; entries a dead consumer left are claimed this often.
    POSITION_BATCH_PAUSE_MS = _env_int("POSITION_BATCH_PAUSE_MS", 200)
    POSITION_RECOVER_SECONDS = _env_int("POSITION_RECOVER_SECONDS", 30)
    # The position history is kept this many days, then deleted in batches of this many rows.
    POSITION_HISTORY_DAYS = _env_int("POSITION_HISTORY_DAYS", 30)
    POSITION_DELETE_BATCH = _env_int("POSITION_DELETE_BATCH", 5000)

    # --- unified catalog: the matcher's scoring model (docs/catalog-matching.md) -------------
    # The model `flask catalog train` writes and the matcher loads; the committed default is
    # trained on Abt-Buy's train split, its thresholds chosen on valid.
    CATALOG_MATCHER_MODEL = _env(
        "CATALOG_MATCHER_MODEL",
        os.path.join(os.path.dirname(__file__), "catalog", "matching", "models", "default.joblib"),
    )
    # A bulk approve in the review queue maps at most this many proposals per request (each
    # goes through the mapping service, ~10 statements): the most confident first.
    CATALOG_REVIEW_BULK_MAX = _env_int("CATALOG_REVIEW_BULK_MAX", 200)
    # Override the model file's band thresholds (None: the file's own, chosen on validation data).
    # At or above AUTO_MAP a match is mapped unreviewed; below NEW_MASTER the product becomes a
    # master of its own; between, it waits for review.
    CATALOG_AUTO_MAP_THRESHOLD = _env_float_or_none("CATALOG_AUTO_MAP_THRESHOLD")
    CATALOG_NEW_MASTER_THRESHOLD = _env_float_or_none("CATALOG_NEW_MASTER_THRESHOLD")
    # Vendor products matched per batch (one commit, one featurizer fit each).
    CATALOG_MATCH_BATCH = _env_int("CATALOG_MATCH_BATCH", 250)

    # --- backups with pgBackRest, and the read replica (docs/operations.md) -------------------
    # pgBackRest's configuration (rendered by set-up from ops/pgbackrest/), its stanza, and the OS
    # user it (and pg_ctl for the restore test) runs as: the database cluster's owner. Backups
    # count as configured only when this file exists and the server archives WAL through
    # pgBackRest (archive_mode on); otherwise the operations page says what is missing.
    BACKUP_PGBACKREST = _env("BACKUP_PGBACKREST", "pgbackrest")
    BACKUP_PGBACKREST_CONFIG = _env("PGBACKREST_CONFIG", "/etc/pgbackrest/pgbackrest.conf")
    BACKUP_STANZA = _env("BACKUP_STANZA", "portal")
    BACKUP_RUN_AS = _env("BACKUP_RUN_AS", "postgres")
    BACKUP_PG_BINDIR = _env("BACKUP_PG_BINDIR", "/usr/lib/postgresql/15/bin")
    # One pgBackRest command may run this long (a full backup of a large database is slow).
    BACKUP_COMMAND_TIMEOUT_SECONDS = _env_int("BACKUP_COMMAND_TIMEOUT_SECONDS", 6 * 60 * 60)
    # The restore test (and `flask ops recover`) start the restored copy on this port of
    # 127.0.0.1, in a folder under this one; it is removed again after the test.
    BACKUP_SCRATCH_PORT = _env_int("BACKUP_SCRATCH_PORT", 55439)
    BACKUP_SCRATCH_DIR = _env("BACKUP_SCRATCH_DIR", "/var/tmp/portal-restore-test")
    # How long the restored copy may take to start and replay to its restore point.
    BACKUP_RESTORE_START_SECONDS = _env_int("BACKUP_RESTORE_START_SECONDS", 600)
    # The tables whose row counts (and money sums, where a column is named) the restore test
    # compares with the source at the backup's restore point; a table that does not exist is
    # skipped. The backup job holds a SHARE lock on them while it counts (writers wait).
    BACKUP_CHECK_TABLES = {
        "users": None,
        "vendors": None,
        "orders": "total",
        "order_items": "line_total",
        "order_refunds": "amount",
        "commission_records": "commission_amount",
        "payouts": "amount",
        "points_transactions": "amount",
    }
    # WAL archiving: admins are mailed when a segment has waited longer than this to be archived,
    # or when archiving fails; the same problem is mailed again at most this often.
    BACKUP_ARCHIVE_LAG_ALERT_SECONDS = _env_int("BACKUP_ARCHIVE_LAG_ALERT_SECONDS", 15 * 60)
    BACKUP_ALERT_REPEAT_SECONDS = _env_int("BACKUP_ALERT_REPEAT_SECONDS", 6 * 60 * 60)

    # A streaming replica the read-only pages (dashboards, statements, reports) read from;
    # empty: everything reads the primary (portal/replica_routing.py). After a person's own
    # write they read the primary this many seconds; everyone does while the replica's replay
    # lag is above the threshold (measured at most every REPLICA_LAG_CHECK_SECONDS per process).
    DATABASE_REPLICA_URL = _env("DATABASE_REPLICA_URL", "")
    SQLALCHEMY_BINDS = (
        {"replica": sqlalchemy_database_url(DATABASE_REPLICA_URL)} if DATABASE_REPLICA_URL else {}
    )
    REPLICA_READ_YOUR_WRITES_SECONDS = _env_int("REPLICA_READ_YOUR_WRITES_SECONDS", 10)
    REPLICA_MAX_LAG_SECONDS = float(_env("REPLICA_MAX_LAG_SECONDS", "5"))
    REPLICA_LAG_CHECK_SECONDS = float(_env("REPLICA_LAG_CHECK_SECONDS", "2"))

    # --- retention and maintenance (portal/operations/, docs/operations.md) -------
    # Orders move to archived_orders by whole months once the month ended this many months ago.
    ORDER_RETENTION_MONTHS = _env_int("ORDER_RETENTION_MONTHS", 24)
    # An archived month's partition is emptied this many rows per transaction before its detach.
    ORDER_ARCHIVE_DELETE_BATCH = _env_int("ORDER_ARCHIVE_DELETE_BATCH", 5000)
    # The monthly archive slot acts only in these months: the quarterly archive.
    ORDER_ARCHIVE_MONTHS = (1, 4, 7, 10)
    # Commission records are aggregated into commission_summaries after this many months.
    COMMISSION_RETENTION_MONTHS = _env_int("COMMISSION_RETENTION_MONTHS", 12)
    # The plain DETACH waits at most this long for its ACCESS EXCLUSIVE lock, then gives up
    # (the partition is finished on the next run) rather than queue every reader behind it.
    RETENTION_LOCK_TIMEOUT_MS = _env_int("RETENTION_LOCK_TIMEOUT_MS", 5000)
    # Messages the file mail backend wrote are deleted after this many days.
    MAIL_FOLDER_RETENTION_DAYS = _env_int("MAIL_FOLDER_RETENTION_DAYS", 30)
    # ANALYZE a table once this many rows changed since its last analyze (and this share of it).
    ANALYZE_MIN_MODIFIED_ROWS = _env_int("ANALYZE_MIN_MODIFIED_ROWS", 1000)
    ANALYZE_MODIFIED_SHARE = _env_float("ANALYZE_MODIFIED_SHARE", 0.05)
    # VACUUM (ANALYZE) a table whose dead tuples pass this share of its rows (and this count).
    VACUUM_DEAD_SHARE = _env_float("VACUUM_DEAD_SHARE", 0.05)
    VACUUM_MIN_DEAD_ROWS = _env_int("VACUUM_MIN_DEAD_ROWS", 1000)
    # REINDEX CONCURRENTLY an index of at least REINDEX_MIN_BYTES whose leaf density (pgstattuple)
    # is below REINDEX_MIN_LEAF_DENSITY percent, or, without pgstattuple, that grew by this factor
    # since its last reindex.
    REINDEX_MIN_BYTES = _env_int("REINDEX_MIN_BYTES", 8 * 1024 * 1024)
    REINDEX_MIN_LEAF_DENSITY = _env_float("REINDEX_MIN_LEAF_DENSITY", 70.0)
    REINDEX_GROWTH_FACTOR = _env_float("REINDEX_GROWTH_FACTOR", 1.5)


# Under pytest-xdist (scripts/test.sh runs the suite on several workers) each worker, named by
# PYTEST_XDIST_WORKER (gw0, gw1, …) in its environment and its subprocesses', gets a database, a
# Redis database and folders of its own, so workers never see each other's rows, keys or files.
_TEST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _per_test_worker(value: str) -> str:
    return f"{value}_{_TEST_WORKER}" if _TEST_WORKER else value


def _per_test_worker_redis(url: str) -> str:
    """gw0 keeps the configured Redis database, gw1 the one below it, and so on."""
    if not _TEST_WORKER:
        return url
    base, _, number = url.rpartition("/")
    return f"{base}/{int(number) - int(_TEST_WORKER.removeprefix('gw'))}"


class TestConfig(Config):
    TESTING = True
    ENV_NAME = "test"
    SQLALCHEMY_DATABASE_URI = sqlalchemy_database_url(
        _per_test_worker(
            _env(
                "TEST_DATABASE_URL",
                "postgresql+psycopg://postgres:postgres@127.0.0.1:5432/portal_test",
            )
        )
    )
    SQLALCHEMY_BINDS = {}  # no replica, whatever the environment says, unless a test starts one
    # A Redis database of its own, so a test run can flush it without touching development data.
    REDIS_URL = _per_test_worker_redis(_env("TEST_REDIS_URL", "redis://127.0.0.1:6379/15"))
    RATELIMIT_STORAGE_URI = REDIS_URL
    RATELIMIT_KEY_PREFIX = "portal-test-limits"
    RQ_KEY_PREFIX = "portal-test"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False
    MEDIA_ROOT = _per_test_worker(
        _env("TEST_MEDIA_ROOT", os.path.join(os.getcwd(), "var", "test-media"))
    )
    PRIVATE_MEDIA_ROOT = _per_test_worker(
        _env("TEST_PRIVATE_MEDIA_ROOT", os.path.join(os.getcwd(), "var", "test-private-media"))
    )
    MAP_TILE_URL = ""  # no internet here: failed tile loads would be console errors
    # scrypt costs ~0.1 s a call, most of a database test's time; a few pbkdf2 rounds cost nothing.
    PASSWORD_HASH_METHOD = _env("TEST_PASSWORD_HASH_METHOD", "pbkdf2:sha256:1000")
    # Tests run a local SMTP server on loopback (tests/mail_server.py) and point MAIL_PORT at it.
    MAIL_BACKEND = "smtp"
    MAIL_SERVER = "127.0.0.1"
    MAIL_FOLDER = _per_test_worker(
        _env("TEST_MAIL_FOLDER", os.path.join(os.getcwd(), "var", "test-mail"))
    )
    # Tests start the local Stripe server on a free port and point a gateway at it.
    STRIPE_API_BASE = _env("TEST_STRIPE_API_BASE", LOCAL_STRIPE_API)
    STRIPE_RETRY_BASE_SECONDS = 0.01
    STRIPE_RETRY_MAX_SECONDS = 0.05
    # Tests start the local DoorDash server on a free port too.
    DOORDASH_API_BASE = _env("TEST_DOORDASH_API_BASE", LOCAL_DOORDASH_API)
    DOORDASH_RETRY_BASE_SECONDS = 0.0
    # No geocoder unless a test starts the local one (tests/deliveries/geocoder.py).
    GEOCODER_URL = _env("TEST_GEOCODER_URL", "")
    # Referral visits are written by the request in tests, except where a test turns the buffer
    # on (tests/referrals/test_buffer.py).
    REFERRAL_VISIT_BUFFER = False
