"""Settings for lfr, driven by environment variables only.

With no variable set this is the embedded default used by `make demo`: SQLite under
var/, an in-process channel layer and a file-system Celery broker. LFR_ENV=production
refuses every one of those embedded pieces.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from lfr_site.env import (
    env_authorities,
    env_bool,
    env_choice,
    env_float,
    env_int,
    env_list,
    env_names,
    env_str,
    env_subset,
    parse_database_url,
    secret_key,
)
from recognition.engine import netguard as _netguard

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("LFR_VAR_DIR", str(BASE_DIR / "var"))).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)  # beat schedule, embedded broker, SQLite

LFR_ENV = env_str("LFR_ENV", "development")
if LFR_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"LFR_ENV must be development or production, got {LFR_ENV!r}")
PRODUCTION = LFR_ENV == "production"

SECRET_KEY = secret_key("SECRET_KEY", VAR_DIR, production=PRODUCTION)
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be false when LFR_ENV=production")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when LFR_ENV=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
CSRF_FAILURE_VIEW = "core.errors.csrf_failure"

INSTALLED_APPS = [
    "daphne",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "core",
    "watchlists",
    "deployments",
    "recognition",
    "oversight",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Above WhiteNoise, which answers static files itself: they get the policy too.
    "core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "core.middleware.RefuseNulMiddleware",
    "core.middleware.SessionIdleMiddleware",
    "core.middleware.RequestContextMiddleware",
    "core.middleware.NoStoreMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "core.middleware.MFARequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "lfr_site.urls"
ASGI_APPLICATION = "lfr_site.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.navigation",
            ],
            # One time format on every page (issue 26.6): `when` needs no {% load %}.
            "builtins": ["core.templatetags.lfr_time"],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'lfr.sqlite3'}")
DATABASES = {"default": parse_database_url("DATABASE_URL", DATABASE_URL)}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    if PRODUCTION:
        raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL when LFR_ENV=production")
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # WAL: readers never block the writer's commit (the rollback journal made one slow
    # read lock out heartbeats, slices and requests); NORMAL is durable under WAL except
    # for the last commits on power loss. Set on every new connection.
    DATABASES["default"]["OPTIONS"]["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
    )
    # A file, not :memory:, so tests can share the test database with worker processes.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer and Celery broker --------------------------------------------
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL is not None and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL must start with redis://, got {REDIS_URL!r}")
if PRODUCTION and not REDIS_URL:
    raise ImproperlyConfigured("REDIS_URL must be set when LFR_ENV=production")

if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 gives up on a socket read after 5 s by default: exactly how
                # long channels_redis blocks in BZPOPMIN, so under load the client times
                # out first and every consumer of the process dies. Keep a margin.
                "hosts": [{"address": REDIS_URL, "socket_timeout": 15}],
                "capacity": 1500,
                "expiry": 10,
            },
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # No task runs long (cameras are read by the stream runner, not by tasks): a
        # task of a killed worker is redelivered after this, not after an hour.
        "visibility_timeout": 300,
    }
else:
    # Embedded default: the in-process layer is visible only inside one process, so
    # `manage.py lfr_demo` runs the Celery worker inside the ASGI server process.
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    BROKER_DIR = VAR_DIR / "broker"
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        # Broadcast (pidbox) exchanges: kombu's default is ./control, under the current
        # directory, which left stray files in whatever directory the server ran from.
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }

EMBEDDED_LAYER = CHANNEL_LAYERS["default"]["BACKEND"].endswith("InMemoryChannelLayer")

# --- Audit chain ------------------------------------------------------------------------
# The audit chain's HMAC key (docs/AUDIT.md): from the environment, never in
# the database; the embedded default generates var/audit_key (0600) once.
LFR_AUDIT_KEY = secret_key(
    "LFR_AUDIT_KEY", VAR_DIR, production=PRODUCTION, filename="audit_key", min_length=32
)
LFR_AUDIT_KEY_GENERATED = not os.environ.get("LFR_AUDIT_KEY")
LFR_AUDIT_CHECKPOINT_FILE = Path(
    env_str("LFR_AUDIT_CHECKPOINT_FILE", str(VAR_DIR / "audit_checkpoints.jsonl"))
).resolve()
LFR_AUDIT_CHECKPOINT_SECONDS = env_int("LFR_AUDIT_CHECKPOINT_SECONDS", 300, minimum=10)

CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {}
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"
# Every periodic job in one place; each task is a thin caller of its app's service.
CELERY_BEAT_SCHEDULE = {
    "heartbeat": {"task": "core.tasks.worker_heartbeat", "schedule": 10.0},
    "deployment-lifecycle": {"task": "deployments.tasks.lifecycle_tick", "schedule": 15.0},
    "deployment-watchlist-retention": {
        "task": "deployments.tasks.watchlist_retention",
        "schedule": 300.0,
    },
    "watchlist-entry-retention": {"task": "watchlists.tasks.entry_retention", "schedule": 300.0},
    "stream-supervisor": {"task": "recognition.tasks.stream_supervisor", "schedule": 10.0},
    "alert-retention": {"task": "recognition.tasks.alert_retention", "schedule": 3600.0},
    "audit-checkpoint": {
        "task": "core.tasks.audit_checkpoint",
        "schedule": float(LFR_AUDIT_CHECKPOINT_SECONDS),
    },
}

# --- Auth, sessions, login throttling --------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Inactivity timeout: core.middleware.SessionIdleMiddleware refreshes the session's expiry
# at most once a minute, so it expires after this many idle minutes without a write per
# request (every request writing the session locked SQLite under a busy console).
SESSION_COOKIE_AGE = env_int("LFR_SESSION_IDLE_MINUTES", 30, minimum=1) * 60
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
LFR_LOGIN_MAX_FAILURES = env_int("LFR_LOGIN_MAX_FAILURES", 5, minimum=1)
LFR_LOGIN_LOCK_MINUTES = env_int("LFR_LOGIN_LOCK_MINUTES", 15, minimum=1)
# Failures from one client address within LFR_LOGIN_LOCK_MINUTES before it is blocked
# (an office behind one NAT address shares it: keep it well above LFR_LOGIN_MAX_FAILURES).
LFR_LOGIN_MAX_FAILURES_PER_ADDRESS = env_int("LFR_LOGIN_MAX_FAILURES_PER_ADDRESS", 20, minimum=1)

# Multi-factor sign-in (core/mfa.py): after the password every role enters a code from
# its authenticator (TOTP) or a recovery code, enrolling on first sign-in. Failed codes
# count towards the login throttle above; django-otp's own clock-based back-off is off.
LFR_MFA_REQUIRED = env_bool("LFR_MFA_REQUIRED", True)
if PRODUCTION and not LFR_MFA_REQUIRED:
    raise ImproperlyConfigured("LFR_MFA_REQUIRED must be true when LFR_ENV=production")
OTP_TOTP_ISSUER = env_str("LFR_MFA_ISSUER", "lfr")
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# A code one step ahead is accepted (tolerance), but never moves the window: with sync on,
# each such code added a step of drift, and the window walked forward (issue 24.6).
OTP_TOTP_SYNC = False

# --- Security (production) -------------------------------------------------------------
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
# A load balancer probes each web process directly over plain HTTP: its probes are not
# redirected to HTTPS (they say nothing; core/probes.py).
SECURE_REDIRECT_EXEMPT = [r"^health/(live|ready)/$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# --- Static files ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
# Without collectstatic (the demo) WhiteNoise serves straight from the app folders.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

# --- Uploads -------------------------------------------------------------------------
LFR_MAX_UPLOAD_BYTES = env_int("LFR_MAX_UPLOAD_BYTES", 10 * 1024 * 1024, minimum=1024)
LFR_MAX_IMAGE_PIXELS = env_int("LFR_MAX_IMAGE_PIXELS", 40_000_000, minimum=10_000)
DATA_UPLOAD_MAX_MEMORY_SIZE = LFR_MAX_UPLOAD_BYTES + 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = LFR_MAX_UPLOAD_BYTES + 1024 * 1024
# Every request body, refused with 413 before anything parses it (lfr_site/asgi.py): in
# daphne as soon as the headers declare more, or as a chunked body passes it. 32 MiB
# holds a watchlist image at its own limit three times over, or a bulk import ZIP of
# ~150 typical 200 KB reference photos; a larger import should be split.
LFR_MAX_REQUEST_BYTES = env_int("LFR_MAX_REQUEST_BYTES", 32 * 1024 * 1024, minimum=1024)
if LFR_MAX_REQUEST_BYTES < DATA_UPLOAD_MAX_MEMORY_SIZE:
    raise ImproperlyConfigured(
        "LFR_MAX_REQUEST_BYTES must be at least LFR_MAX_UPLOAD_BYTES + 1 MiB "
        f"({DATA_UPLOAD_MAX_MEMORY_SIZE}): the largest image upload must fit"
    )

# --- DRF ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.tokens.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "core.mfa.MFAVerified",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "lfr_site.schema.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON with a nesting limit (core/parsers.py): deep nesting is a 400, not a crash.
    "DEFAULT_PARSER_CLASSES": [
        "core.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
}
SPECTACULAR_SETTINGS = {
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "TITLE": "lfr API",
    "DESCRIPTION": "Live facial recognition: watchlists, deployments, alerts, oversight.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema maps every operation: not public (issue 14.9), signed-in users only
    # (lfr_site/urls.py also sends an anonymous browser to the login page); an integration
    # reads it with its token (issue 26.6).
    "SERVE_AUTHENTICATION": [
        "core.tokens.BearerTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated", "core.mfa.MFAVerified"],
    # One name per fixed list, however many fields use it.
    "ENUM_NAME_OVERRIDES": {
        "WatchlistCategoryEnum": "watchlists.models.Category",
        "UseCaseEnum": "deployments.models.UseCase",
        # Two choice sets are called "outcome": the adjudication's keeps the name it had.
        "OutcomeEnum": "recognition.models.Adjudication.Outcome",
        "IndependentOutcomeEnum": "deployments.models.IndependentAuthorisation.Outcome",
    },
}

# --- Sample data and cameras -----------------------------------------------------------
_default_data = BASE_DIR.parent / "shared" / "data"
LFR_DATA_DIR = Path(env_str("LFR_DATA_DIR", str(_default_data))).resolve()
# File cameras (recorded footage, the demo clip) may only read inside this folder.
LFR_CAMERA_FILE_ROOT = Path(env_str("LFR_CAMERA_FILE_ROOT", str(LFR_DATA_DIR))).resolve()
# Which addresses network cameras may use: the engine's netguard is given them
# (deployments.services.cameras.camera_policy); checked here so a bad value stops start-up.
LFR_CAMERA_ALLOWED_NETWORKS = env_list("LFR_CAMERA_ALLOWED_NETWORKS", [])
LFR_CAMERA_ALLOW_LOOPBACK = env_bool("LFR_CAMERA_ALLOW_LOOPBACK", False)
try:
    _netguard.policy_from(allowed_networks=LFR_CAMERA_ALLOWED_NETWORKS)
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from None

# --- Domain rules; every number here is configurable (docs/CONFIGURATION.md) -------
# Match threshold is a dlib face distance (0..1, lower = closer). The operating point is
# calibrated from measured false-match rates (see docs/OPERATING_POINT.md); a
# deployment may be stricter (lower) but never looser than LFR_THRESHOLD_MAX.
# 0.50: just under 0.507, where dlib matched 0 of 11,564 comparisons of distinct people
# and still accepted 95 % of genuine pairs (0.55 falsely matched 0.14-0.40 %: a third of
# passers-by would alert against 100 entries). LFR_THRESHOLD_MAX stays the library's 0.60:
# it is also the watchlists' "same person" radius, and LFR_MAX_FALSE_ALERT_RATE, not the
# maximum, bounds a threshold by the watchlist size.
LFR_THRESHOLD_DEFAULT = env_float("LFR_THRESHOLD_DEFAULT", 0.50)
LFR_THRESHOLD_MAX = env_float("LFR_THRESHOLD_MAX", 0.60)
if not 0 < LFR_THRESHOLD_DEFAULT <= LFR_THRESHOLD_MAX <= 1:
    raise ImproperlyConfigured(
        "LFR_THRESHOLD_DEFAULT must be above 0 and no looser than LFR_THRESHOLD_MAX (<= 1)"
    )
# The force's policy on false alerts: the largest share of passers-by that may raise one
# (0.001 = 1 in 1,000). Each deployment's operating point is the loosest threshold whose
# 95 % upper bound meets it at the authorised watchlist size (recognition.selectors.
# operating_point); unset (the default), the bound is shown but nothing is refused.
LFR_MAX_FALSE_ALERT_RATE = env_float("LFR_MAX_FALSE_ALERT_RATE", 0.0) or None
if LFR_MAX_FALSE_ALERT_RATE is not None and not 0 < LFR_MAX_FALSE_ALERT_RATE < 1:
    raise ImproperlyConfigured("LFR_MAX_FALSE_ALERT_RATE must lie between 0 and 1, e.g. 0.001")
# Advance public notice: an authorised deployment appears on the transparency page this
# many days before it starts (unless the authorising officer withheld notice, with a reason).
LFR_PUBLIC_NOTICE_LEAD_DAYS = env_int("LFR_PUBLIC_NOTICE_LEAD_DAYS", 7, minimum=0)
# Who is notified of each use (EU AI Act Art. 5(4)): the force's market-surveillance and
# data-protection authorities, "kind:Name; kind:Name".
LFR_NOTICE_AUTHORITIES = env_authorities(
    "LFR_NOTICE_AUTHORITIES",
    [
        ("market_surveillance", "Office for Product Safety and Standards"),
        ("data_protection", "Information Commissioner's Office"),
    ],
)
# Independent prior authorisation (EU AI Act Art. 5(3); the Home Office consultation's
# authorisation requirement): "never" (a UK force today: the internal authorising officer
# decides) or "always" (each deployment also needs a binding decision of one of
# LFR_INDEPENDENT_AUTHORITIES, a judicial or independent administrative authority; an
# urgent start must get it within LFR_URGENT_AUTHORISE_HOURS or is stopped and purged).
LFR_INDEPENDENT_AUTHORISATION = env_choice(
    "LFR_INDEPENDENT_AUTHORISATION", "never", {"never", "always"}
)
LFR_INDEPENDENT_AUTHORITIES = env_names(
    "LFR_INDEPENDENT_AUTHORITIES",
    ["District Judge (Magistrates' Courts)", "Investigatory Powers Commissioner's Office"],
)
# Force-wide assessments (versioned, with review dates) the activation gate requires a
# current approved one of: dpia, policy, equality, and for an EU force fria (Art. 27) and
# eu_registration (Art. 49). Empty (the default) keeps the gate on the per-deployment
# references alone; a UK force sets "dpia,policy,equality", an EU force adds the two.
ASSESSMENT_KINDS = ["dpia", "policy", "equality", "fria", "eu_registration"]
LFR_REQUIRED_ASSESSMENTS = env_subset("LFR_REQUIRED_ASSESSMENTS", [], ASSESSMENT_KINDS)
LFR_WEEKLY_CAPACITY = env_int("LFR_WEEKLY_CAPACITY", 10, minimum=1)
LFR_MAX_DEPLOYMENT_HOURS = env_int("LFR_MAX_DEPLOYMENT_HOURS", 12, minimum=1)
LFR_URGENT_MODE = env_bool("LFR_URGENT_MODE", False)
LFR_URGENT_AUTHORISE_HOURS = env_int("LFR_URGENT_AUTHORISE_HOURS", 2, minimum=1)
LFR_WATCHLIST_GRACE_HOURS = env_int("LFR_WATCHLIST_GRACE_HOURS", 24, minimum=0)
LFR_ALERT_RETENTION_DAYS = env_int("LFR_ALERT_RETENTION_DAYS", 31, minimum=1)
LFR_ENTRY_PURGE_DAYS = env_int("LFR_ENTRY_PURGE_DAYS", 0, minimum=0)
# A watchlist entry's review date and expiry when the submitter gives none (the APP asks
# for both on every entry): days from submission.
LFR_ENTRY_REVIEW_DAYS = env_int("LFR_ENTRY_REVIEW_DAYS", 90, minimum=1)
LFR_ENTRY_EXPIRY_DAYS = env_int("LFR_ENTRY_EXPIRY_DAYS", 365, minimum=1)
# A reference image older than this (in days, by the date it was taken) is flagged on the
# review queue and the authorisation screen (APP: "the most recent suitable image"). Two
# years: custody photographs are retaken at each arrest, so a wanted or suspect entry
# with a two-year-old photo usually has a newer one; faces change in that time (hair,
# weight, glasses, ageing in the young). It flags, never refuses: an old image can be the
# most recent there is (a long-missing person).
LFR_IMAGE_MAX_AGE_DAYS = env_int("LFR_IMAGE_MAX_AGE_DAYS", 730, minimum=1)
LFR_MIN_FACE_PX = env_int("LFR_MIN_FACE_PX", 80, minimum=20)
LFR_UNADJUDICATED_MINUTES = env_int("LFR_UNADJUDICATED_MINUTES", 5, minimum=1)
# EU AI Act Art. 14(5): no action on a match unless two competent, authorised people have
# separately verified it. True (the default): every new deployment plan is two-person
# and a plan asking for one is refused; False: a plan may choose (one by default).
LFR_REQUIRE_TWO_PERSON_VERIFICATION = env_bool("LFR_REQUIRE_TWO_PERSON_VERIFICATION", True)
# A live camera that delivers no frame for this long is shown blind (cameras page, health,
# console banner, API).
LFR_CAMERA_BLIND_SECONDS = env_int("LFR_CAMERA_BLIND_SECONDS", 10, minimum=2)
# A camera analysing less than this share of real time (of the frames the detector wants,
# the share it analyses; the rest are dropped) is degraded: the officer's console says
# which camera and what share, as do the cameras page, /health/ and the API.
LFR_CAMERA_DEGRADED_SHARE = env_float("LFR_CAMERA_DEGRADED_SHARE", 0.8)
# The bearer token a Prometheus scraper sends for /metrics; unset, /metrics is not served.
LFR_METRICS_TOKEN = env_str("LFR_METRICS_TOKEN", "")
if LFR_METRICS_TOKEN and len(LFR_METRICS_TOKEN) < 24:
    raise ImproperlyConfigured("LFR_METRICS_TOKEN must be at least 24 characters")
# The admin's camera test gives up after this long (open + one frame).
LFR_CAMERA_TEST_SECONDS = env_int("LFR_CAMERA_TEST_SECONDS", 15, minimum=2)
# ... and may run this many a minute (it reaches into the camera network: no scanner).
LFR_CAMERA_TESTS_PER_MINUTE = env_int("LFR_CAMERA_TESTS_PER_MINUTE", 6, minimum=1)
# Matches of one subject at one deployment less than this apart (frame time) are one
# sighting: they update one alert instead of raising another.
LFR_SIGHTING_WINDOW_SECONDS = env_int("LFR_SIGHTING_WINDOW_SECONDS", 60, minimum=1)
# Cameras one stream worker (a `celery worker -Q streams` process) reads at once; all of
# its cameras share one core (one process, one dlib lock): see docs/STREAMS.md.
LFR_STREAM_CAMERAS_PER_WORKER = env_int("LFR_STREAM_CAMERAS_PER_WORKER", 4, minimum=1)
# Stale after 15 s, claimed at another worker's next poll (1 s): a killed worker's camera
# resumes about 16 s after its last heartbeat.
LFR_STREAM_LEASE_STALE_SECONDS = env_int("LFR_STREAM_LEASE_STALE_SECONDS", 15, minimum=5)
# Face detector of the live pipeline: "yunet" (YuNet, faces from ~24 px in 1080p at
# confidence >= 0.8) or "hog" (dlib's, faces from ~70 px in 1080p; the fallback). See
# recognition/engine/pipeline.py and `make bench` for the measurements.
LFR_DETECTOR = env_choice("LFR_DETECTOR", "yunet", {"yunet", "hog"})
# Evidence over a track: a subject alerts once this many encodings of one tracked face
# (looks) matched it within the threshold, or at once on a look 0.1 inside it (a face
# seen on one pass only can still alert when there is no doubt). 2, measured with `make
# bench` (YuNet): every true alert kept on the sample clips, one detection pass later
# (~0.17 s); at a loose 0.7 the one false alert removed (clapton, 0.663). 1 = alert on
# the first look (HOG with 2 lost the 29 px Lacamoire of the Hamilton clip).
LFR_TRACK_EVIDENCE_LOOKS = env_int("LFR_TRACK_EVIDENCE_LOOKS", 2, minimum=1)
LFR_EQUALITY_GROUPS = env_list(
    "LFR_EQUALITY_GROUPS", ["Asian", "Black", "Mixed", "White", "Other", "Not recorded"]
)
# Run the Celery worker (and beat) inside the ASGI server process: set by `lfr_demo`.
LFR_EMBEDDED_WORKER = env_bool("LFR_EMBEDDED_WORKER", False)

LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "Europe/London")
USE_I18N = False
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"refusal_one_line": {"()": "lfr_site.log.RefusalWithoutTraceback"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        # An ordinary 403 is one line, not a traceback.
        "django.request": {"filters": ["refusal_one_line"]},
        # Beat and the worker log every received task at INFO: every few seconds.
        "celery": {"level": env_str("CELERY_LOG_LEVEL", "WARNING")},
        # The file-system broker has no host name, and kombu warns about it on every send.
        "kombu.connection": {"level": "ERROR"},
    },
}
