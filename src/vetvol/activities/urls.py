from django.urls import path  # noqa: F401

from vetvol.activities import views  # noqa: F401

app_name = "activities"
urlpatterns: list = []
