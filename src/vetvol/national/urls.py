from django.urls import path

from vetvol.national import views

app_name = "national"
urlpatterns = [
    path("", views.index, name="index"),
    path("export/", views.export, name="export"),
]
