from django.urls import path

from vetvol.activities import exemplar_views, recognition_views, views

app_name = "activities"
urlpatterns = [
    path("", views.activity_list, name="list"),
    path("me/", views.me, name="me"),
    path("anomalies/", views.anomalies, name="anomalies"),
    path("export/hours.<str:fmt>", views.export_hours, name="export_hours"),
    path("me/ecard/", views.ecard, name="ecard"),
    path("me/certificates/", views.my_certificates, name="my_certificates"),
    path("me/stars/request/", recognition_views.my_star_request, name="my_star_request"),
    path("certificates/<str:number>.pdf", views.certificate_pdf, name="certificate_pdf"),
    path(
        "certificates/<str:number>/revoke/", recognition_views.certificate_revoke, name="certificate_revoke"
    ),
    path("stars/", recognition_views.star_requests, name="star_requests"),
    path("stars/<int:pk>/approve/", recognition_views.star_approve, name="star_approve"),
    path("stars/<int:pk>/reject/", recognition_views.star_reject, name="star_reject"),
    path("stars/awards/<int:pk>/revoke/", recognition_views.star_revoke, name="star_revoke"),
    path(
        "volunteers/<int:pk>/recognition/",
        recognition_views.volunteer_recognition,
        name="volunteer_recognition",
    ),
    path("exemplars/", exemplar_views.exemplar_list, name="exemplars"),
    path("exemplars/candidates/", exemplar_views.candidates, name="exemplar_candidates"),
    path("exemplars/nominate/<int:pk>/", exemplar_views.nominate, name="exemplar_nominate"),
    path("exemplars/<int:pk>/", exemplar_views.exemplar_detail, name="exemplar_detail"),
    path("exemplars/<int:pk>/approve/", exemplar_views.approve, name="exemplar_approve"),
    path("exemplars/<int:pk>/reject/", exemplar_views.reject, name="exemplar_reject"),
    path("exemplars/<int:pk>/consent/", exemplar_views.consent, name="exemplar_consent"),
    path("me/exemplars/", exemplar_views.my_exemplars, name="my_exemplars"),
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
