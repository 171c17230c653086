from django.urls import path, re_path

from vetvol.dispatch import views

app_name = "dispatch"
urlpatterns = [
    path("board/", views.board_page, name="board"),
    re_path(r"^board/geo/(?P<code>[0-9]{2,12})\.json$", views.board_geo, name="board_geo"),
    path("incidents/new/", views.incident_new, name="incident_new"),
    path("me/", views.me, name="me"),
    path("invitations/<int:pk>/answer/", views.answer, name="answer"),
    path("assignments/<int:pk>/status/", views.move, name="move"),
]
