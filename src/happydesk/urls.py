"""Every app's URLs. Each app owns its views, URLs and templates; web/ holds only the shared page shell."""

from django.urls import include, path

from happydesk.api.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("", include("happydesk.accounts.urls")),
    path("", include("happydesk.inbox.urls")),
    path("", include("happydesk.mail.urls")),
    path("", include("happydesk.replies.urls")),
    path("", include("happydesk.portal.urls")),
    path("", include("happydesk.widget.urls")),
    path("", include("happydesk.kb.urls")),
    path("", include("happydesk.status.urls")),
    path("", include("happydesk.feedback.urls")),
    path("", include("happydesk.reports.staffing_urls")),
    path("", include("happydesk.feedback.review_urls")),
    path("", include("happydesk.reports.urls")),
    path("", include("happydesk.search.urls")),
    path("", include("happydesk.community.urls")),
    path("", include("happydesk.web.urls")),
    path("", include("happydesk.privacy.urls")),
]
