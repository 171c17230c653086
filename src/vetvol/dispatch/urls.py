"""Dispatch pages: the live board arrives with the websocket work; the API is under /api/dispatch/."""

app_name = "dispatch"
urlpatterns: list = []
