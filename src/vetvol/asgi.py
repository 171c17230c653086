"""ASGI entry point: the pages (HTTP) and the live websockets (the dispatch board, volunteers' invitations,
everyone's inbox bell).

`vetvol serve` runs it with uvicorn. The session cookie authenticates websockets; their Origin must be one of
ALLOWED_HOSTS.
"""

import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vetvol.settings")
os.environ.setdefault("VETVOL_ASGI", "true")

from django.conf import settings
from django.core.asgi import get_asgi_application

django_application = get_asgi_application()  # sets Django up before the consumers are imported

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402

from vetvol.dispatch.routing import websocket_urlpatterns as dispatch_ws  # noqa: E402
from vetvol.notify.routing import websocket_urlpatterns as notify_ws  # noqa: E402

application = ProtocolTypeRouter(
    {
        # In development the app serves its own static files; in production WhiteNoise does.
        "http": ASGIStaticFilesHandler(django_application) if settings.DEBUG else django_application,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter([*dispatch_ws, *notify_ws]))),
    }
)
