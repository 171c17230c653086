"""WSGI entry point (gunicorn and similar)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vetvol.settings")
application = get_wsgi_application()
