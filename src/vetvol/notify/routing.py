from django.urls import path

from vetvol.notify.consumers import InboxConsumer

websocket_urlpatterns = [path("ws/notify/", InboxConsumer.as_asgi())]
