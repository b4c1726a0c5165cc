"""Fast settings for the test suite: MD5 hashing, eager Celery, locmem cache and email."""

import os

os.environ.setdefault("DEBUG", "1")

from config.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
AXES_ENABLED = os.environ.get("AXES_ENABLED", "0") == "1"
# Celery: ordinary tests always run tasks eagerly and see their errors. Slow tests that need a
# real broker and worker read TEST_CELERY_BROKER_URL (make test starts a Redis and exports it).
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
TEST_CELERY_BROKER_URL = os.environ.get("TEST_CELERY_BROKER_URL", "") or CELERY_BROKER_URL  # noqa: F405
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "100000/min"}}  # noqa: F405
