"""Routes of the Excel import and export pages, included from registry/urls.py (namespace "registry")."""

from django.urls import path

from vetvol.registry.views import imports

urlpatterns = [
    path("imports/", imports.upload, name="import_upload"),
    path("imports/template/<str:kind>.xlsx", imports.template_download, name="import_template"),
    path("imports/<uuid:pk>/", imports.job_detail, name="import_job"),
    path("imports/<uuid:pk>/progress/", imports.job_progress, name="import_progress"),
    path("imports/<uuid:pk>/run/", imports.job_run, name="import_run"),
    path("imports/<uuid:pk>/discard/", imports.job_discard, name="import_discard"),
    path("imports/<uuid:pk>/errors.csv", imports.job_errors, name="import_errors"),
    path("export/volunteers.<str:fmt>", imports.export_volunteers, name="export_volunteers"),
    path("export/teams.<str:fmt>", imports.export_teams, name="export_teams"),
]
