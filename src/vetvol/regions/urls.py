from django.urls import path, re_path

from vetvol.regions import views

app_name = "regions"
urlpatterns = [
    path("", views.browser, name="browser"),
    path("search/", views.search, name="search"),
    path("liaison-points/<int:pk>/edit/", views.edit_liaison_point, name="edit_liaison_point"),
    # Any code-like segment reaches the view, so a malformed code gets the same 404 page as a missing one.
    re_path(r"^(?P<code>[0-9A-Za-z]{1,20})/$", views.detail, name="detail"),
    re_path(r"^(?P<code>[0-9A-Za-z]{1,20})/centre/$", views.edit_centre, name="edit_centre"),
    re_path(
        r"^(?P<code>[0-9A-Za-z]{1,20})/liaison-points/new/$",
        views.add_liaison_point,
        name="add_liaison_point",
    ),
]
