from django.urls import path

from consent import views

app_name = "consent"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("setup/", views.setup, name="setup"),
    # Before the step pattern, which would otherwise take "done" for a category code.
    path("setup/done/", views.setup_done, name="setup_done"),
    path("setup/<slug:category>/", views.setup_step, name="setup_step"),
    path("purposes/<slug:purpose>/", views.purpose_terms, name="purpose"),
    path("purposes/<slug:purpose>/withdraw/", views.withdraw_purpose, name="withdraw_purpose"),
    path(
        "categories/<slug:category>/withdraw/",
        views.withdraw_category,
        name="withdraw_category",
    ),
    path("receipts/<uuid:public_id>/", views.receipt_page, name="receipt"),
    path("receipts/<uuid:public_id>.json", views.receipt_json, name="receipt_json"),
    path("paper-forms/<str:reference>/dispute/", views.dispute, name="dispute"),
    # Public: sign-up and every consent step link to it.
    path("privacy/", views.privacy, name="privacy"),
]
