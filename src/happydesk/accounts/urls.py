"""Agent sign-in (password, or OpenID Connect: 404 unless HAPPYDESK_OIDC_ISSUER and
HAPPYDESK_OIDC_CLIENT_ID are set), the agents admin, API tokens and the audit log (read only)."""

from django.contrib.auth import views as auth_views
from django.urls import path

from happydesk.accounts import audit_views, oidc_views, two_factor_views, views

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/code/", two_factor_views.login_code, name="login_code"),
    path("login/two-factor/", two_factor_views.login_setup, name="login_setup"),
    path("login/two-factor/qr.svg", two_factor_views.qr_code, name="login_two_factor_qr"),
    path("account/two-factor/", two_factor_views.account_two_factor, name="two_factor"),
    path("account/two-factor/setup/", two_factor_views.account_two_factor_setup, name="two_factor_setup"),
    path("account/two-factor/qr.svg", two_factor_views.qr_code, name="two_factor_qr"),
    path("account/two-factor/recovery/", two_factor_views.account_recovery_codes, name="two_factor_recovery"),
    path("account/two-factor/off/", two_factor_views.account_two_factor_off, name="two_factor_off"),
    path("login/oidc/", oidc_views.oidc_start, name="oidc_start"),
    path("login/oidc/callback/", oidc_views.oidc_callback, name="oidc_callback"),
    path("admin/agents/", views.agents, name="admin_agents"),
    path("admin/agents/new/", views.agent_add, name="admin_agent_new"),
    path("admin/agents/<int:agent_id>/", views.agent_detail, name="admin_agent"),
    path("admin/agents/<int:agent_id>/role/", views.agent_role, name="admin_agent_role"),
    path("admin/agents/<int:agent_id>/active/", views.agent_active, name="admin_agent_active"),
    path("admin/agents/<int:agent_id>/unlock/", views.agent_unlock, name="admin_agent_unlock"),
    path(
        "admin/agents/<int:agent_id>/two-factor-reset/",
        views.agent_two_factor_reset,
        name="admin_agent_two_factor_reset",
    ),
    path("admin/agents/two-factor/", views.two_factor_policy, name="admin_two_factor_policy"),
    path("admin/audit/", audit_views.audit_log, name="admin_audit"),
    path("admin/audit/export.csv", audit_views.audit_export, name="admin_audit_export"),
    path("account/tokens/", views.my_tokens, name="my_tokens"),
    path("account/time-zone/", views.time_zone, name="account_time_zone"),
    path("tokens/<int:token_id>/revoke/", views.token_revoke, name="token_revoke"),
]
