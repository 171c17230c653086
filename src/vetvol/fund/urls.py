from django.urls import path

from vetvol.fund import views

app_name = "fund"
urlpatterns = [
    path("", views.index, name="index"),
    path("donors/", views.donor_list, name="donor_list"),
    path("donors/new/", views.donor_new, name="donor_new"),
    path("donors/<int:pk>/", views.donor_detail, name="donor"),
    path("donations/", views.donation_list, name="donation_list"),
    path("donations/new/", views.donation_new, name="donation_new"),
    path("donations/<int:pk>/", views.donation_detail, name="donation"),
    path("donations/<int:pk>/reverse/", views.donation_reverse, name="donation_reverse"),
    path("donations/<int:pk>/receipt.pdf", views.donation_receipt, name="donation_receipt"),
    path("disbursements/", views.disbursement_list, name="disbursement_list"),
    path("disbursements/new/", views.disbursement_new, name="disbursement_new"),
    path("disbursements/<int:pk>/", views.disbursement_detail, name="disbursement"),
    path("disbursements/<int:pk>/<str:step>/", views.disbursement_step, name="disbursement_step"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
    path("ledger/", views.ledger_view, name="ledger"),
    path("export/<str:what>.xlsx", views.export, name="export"),
]
