from django.urls import path

from vetvol.registry.views import teams, volunteers

app_name = "registry"
urlpatterns = [
    path("volunteers/", volunteers.volunteer_list, name="volunteer_list"),
    path("volunteers/new/", volunteers.volunteer_create, name="volunteer_create"),
    path("volunteers/<int:pk>/", volunteers.volunteer_detail, name="volunteer_detail"),
    path("volunteers/<int:pk>/edit/", volunteers.volunteer_edit, name="volunteer_edit"),
    path("volunteers/<int:pk>/status/", volunteers.volunteer_status, name="volunteer_status"),
    path("volunteers/<int:pk>/reveal/<str:field>/", volunteers.volunteer_reveal, name="volunteer_reveal"),
    path("register/", volunteers.self_register, name="self_register"),
    path("region-options/", volunteers.region_options, name="region_options"),
    path("register/done/<str:number>/", volunteers.self_register_done, name="self_register_done"),
    path("teams/", teams.team_list, name="team_list"),
    path("teams/new/", teams.team_create, name="team_create"),
    path("teams/<int:pk>/", teams.team_detail, name="team_detail"),
    path("teams/<int:pk>/edit/", teams.team_edit, name="team_edit"),
    path("teams/<int:pk>/members/add/", teams.member_add, name="member_add"),
    path("teams/<int:pk>/liaison-point/", teams.liaison_point, name="liaison_point"),
    path("teams/<int:pk>/squads/", teams.squads_view, name="squads"),
    # imports: begin
    # Excel import and export (registry/urls_imports.py); the (module, app_name, namespace) tuple is what
    # include() returns, written out so this block needs no import of its own.
    path("", ("vetvol.registry.urls_imports", None, None)),  # type: ignore[arg-type]
    # imports: end
]
