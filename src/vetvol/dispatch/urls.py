from django.urls import path, re_path

from vetvol.dispatch import views

app_name = "dispatch"
urlpatterns = [
    path("board/", views.board_page, name="board"),
    re_path(r"^board/geo/(?P<code>[0-9]{2,12})\.json$", views.board_geo, name="board_geo"),
    path("incidents/new/", views.incident_new, name="incident_new"),
    path("incidents/<int:pk>/", views.incident_detail, name="incident"),
    path("incidents/<int:pk>/reveal/<str:field>/", views.incident_reveal, name="incident_reveal"),
    path("incidents/<int:pk>/close/", views.incident_close, name="incident_close"),
    path("incidents/<int:pk>/invite-team/", views.incident_invite_team, name="incident_invite_team"),
    path("team-invitations/", views.team_invitations, name="team_invitations"),
    path("team-invitations/<int:pk>/pick/", views.team_pick, name="team_pick"),
    path("team-totals/", views.team_totals, name="team_totals"),
    path("run-cards/", views.run_cards, name="run_cards"),
    path("run-cards/edit/", views.run_card_edit, name="run_card_edit"),
    path("me/", views.me, name="me"),
    path("invitations/<int:pk>/answer/", views.answer, name="answer"),
    path("assignments/<int:pk>/status/", views.move, name="move"),
]
