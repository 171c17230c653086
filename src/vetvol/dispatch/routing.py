from django.urls import path

from vetvol.dispatch import consumers

websocket_urlpatterns = [
    path("ws/board/", consumers.BoardConsumer.as_asgi()),
    path("ws/me/", consumers.MyConsumer.as_asgi()),
]
