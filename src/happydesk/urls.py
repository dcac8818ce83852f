from django.urls import include, path

from happydesk.api.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("happydesk.kb.urls")),
    path("", include("happydesk.status.urls")),
    path("", include("happydesk.feedback.urls")),
    path("", include("happydesk.reports.staffing_urls")),
    path("", include("happydesk.feedback.review_urls")),
    path("", include("happydesk.reports.urls")),
    path("", include("happydesk.community.urls")),
    path("", include("happydesk.accounts.urls")),
    path("", include("happydesk.web.urls")),
]
