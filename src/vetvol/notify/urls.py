from django.urls import path

from vetvol.notify import views

app_name = "notify"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("read/", views.read_all, name="read_all"),
    path("<int:pk>/open/", views.open_notification, name="open"),
    path("receipt/<str:token>/", views.receipt, name="receipt"),
    path("preferences/", views.preferences, name="preferences"),
    path("deliveries/", views.delivery_log, name="deliveries"),
]
