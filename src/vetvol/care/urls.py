from django.urls import path

from vetvol.care import views

app_name = "care"
urlpatterns = [
    path("", views.index, name="index"),
    path("recipients/", views.recipient_list, name="recipient_list"),
    path("recipients/new/", views.recipient_new, name="recipient_new"),
    path("recipients/<int:pk>/", views.recipient_detail, name="recipient"),
    path("recipients/<int:pk>/reveal/<str:field>/", views.recipient_reveal, name="recipient_reveal"),
    path(
        "recipients/<int:pk>/visits/<int:visit>/reveal/<str:field>/",
        views.recipient_visit_reveal,
        name="recipient_visit_reveal",
    ),
    path("recipients/<int:pk>/event/", views.recipient_event, name="recipient_event"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path(
        "cases/<int:pk>/visits/<int:visit>/reveal/<str:field>/",
        views.case_visit_reveal,
        name="case_visit_reveal",
    ),
    path("cases/<int:pk>/<str:step>/", views.case_step, name="case_step"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("campaigns/", views.campaign_list, name="campaign_list"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign"),
    path("me/", views.me, name="me"),
    path("me/pairings/<int:pk>/visit/", views.me_pairing_visit, name="me_pairing_visit"),
    path("me/tasks/<int:pk>/visit/", views.me_task_visit, name="me_task_visit"),
    path("me/invitations/<int:pk>/answer/", views.me_answer, name="me_answer"),
]
