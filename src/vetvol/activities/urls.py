from django.urls import path

from vetvol.activities import views

app_name = "activities"
urlpatterns = [
    path("", views.activity_list, name="list"),
    path("me/", views.me, name="me"),
    path("anomalies/", views.anomalies, name="anomalies"),
    path("export/hours.<str:fmt>", views.export_hours, name="export_hours"),
    path("me/ecard/", views.ecard, name="ecard"),
    path("me/certificates/", views.my_certificates, name="my_certificates"),
    path("certificates/<str:number>.pdf", views.certificate_pdf, name="certificate_pdf"),
    path("projects/new/", views.project_create, name="project_create"),
    path("projects/<int:pk>/", views.project_detail, name="project_detail"),
    path("<int:pk>/", views.activity_detail, name="detail"),
    path("<int:pk>/sign-up/", views.sign_up, name="sign_up"),
    path("<int:pk>/code/", views.checkin_code, name="checkin_code"),
    path("<int:pk>/scan/", views.scan, name="scan"),
    path("<int:pk>/gps/", views.gps_check, name="gps"),
    path("<int:pk>/organiser-scan/", views.organiser_scan, name="organiser_scan"),
    path("signups/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("signups/<int:pk>/decide/", views.decide, name="decide"),
]
