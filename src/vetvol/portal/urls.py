from django.urls import path, re_path

from vetvol.portal import disclosure, views

app_name = "portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("recruiting/", views.recruiting, name="recruiting"),
    path("exemplars/", disclosure.exemplars, name="exemplars"),
    path("projects/", disclosure.projects, name="projects"),
    # Any segment reaches the views, so malformed codes and ids get the same 404 page as missing ones.
    re_path(r"^regions/(?P<code>[^/]{1,40})/$", views.region, name="region"),
    re_path(r"^teams/(?P<team_id>[^/]{1,40})/$", views.team, name="team"),
    # Brands are free text (a "/" included); the view checks them.
    re_path(r"^brands/(?P<brand>.+)/$", views.brand, name="brand"),
    path("certificates/<str:number>/", views.certificate, name="certificate"),
    path("fund/", views.fund, name="fund"),
    path("fund/donors/", views.fund_donors, name="fund_donors"),
    path("fund/receipts/<str:number>/", views.fund_receipt, name="fund_receipt"),
]
