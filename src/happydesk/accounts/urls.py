"""Agent sign-in by OpenID Connect (404 unless HAPPYDESK_OIDC_ISSUER and HAPPYDESK_OIDC_CLIENT_ID are set)."""

from django.urls import path

from happydesk.accounts import oidc_views

urlpatterns = [
    path("login/oidc/", oidc_views.oidc_start, name="oidc_start"),
    path("login/oidc/callback/", oidc_views.oidc_callback, name="oidc_callback"),
]
