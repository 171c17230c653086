"""ASGI entry point. Real-time dispatch adds its websocket routes here."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vetvol.settings")
application = get_asgi_application()
