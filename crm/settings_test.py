"""Fast settings for the test suite: MD5 hashing, eager Celery, locmem cache and email."""

import os

os.environ.setdefault("DEBUG", "1")

from crm.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
AXES_ENABLED = os.environ.get("AXES_ENABLED", "0") == "1"
# Celery: eager unless a test run points CELERY_BROKER_URL at a real Redis (make test does).
CELERY_TASK_EAGER_PROPAGATES = True
REST_FRAMEWORK = {**REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "100000/min"}}  # noqa: F405
