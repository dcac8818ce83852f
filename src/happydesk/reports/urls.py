from django.urls import path

from happydesk.reports import views

urlpatterns = [
    path("reports/", views.report_page, name="reports"),
    path("reports/export/<str:table>.csv", views.export_csv, name="reports_export"),
    path("reports/shares/", views.share_create, name="reports_share_create"),
    path("reports/shares/<int:share_id>/revoke/", views.share_revoke, name="reports_share_revoke"),
    path("reports/shared/<str:share_token>/", views.shared_report, name="reports_shared"),
    path(
        "reports/shared/<str:share_token>/export/<str:table>.csv",
        views.shared_export,
        name="reports_shared_export",
    ),
    path("reports/settings/", views.settings_page, name="reports_settings"),
]
