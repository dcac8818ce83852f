from django.urls import path

from happydesk.status import admin_views, plan_views, views

urlpatterns = [
    path("status/", views.page, name="status_page"),
    path("status/history/", views.history, name="status_history"),
    path("status/incidents/<int:incident_id>/", views.incident, name="status_incident"),
    path("status/api.json", views.api_json, name="status_api"),
    path("status/notice.json", views.notice_json, name="status_notice"),
    path("status/feed.atom", views.feed_atom, name="status_feed"),
    path("status/subscribe/", views.subscribe, name="status_subscribe"),
    path("status/confirm/<str:token>/", views.confirm, name="status_confirm"),
    path("status/unsubscribe/<str:token>/", views.unsubscribe, name="status_unsubscribe"),
    path("admin/status/", admin_views.dashboard, name="status_admin"),
    path("admin/status/incidents/new/", admin_views.incident_new, name="status_admin_incident_new"),
    path(
        "admin/status/incidents/<int:incident_id>/", admin_views.incident_manage, name="status_admin_incident"
    ),
    path(
        "admin/status/incidents/<int:incident_id>/resolve/",
        admin_views.incident_resolve,
        name="status_admin_incident_resolve",
    ),
    path(
        "admin/status/incidents/<int:incident_id>/send/", plan_views.send_first, name="status_admin_plan_send"
    ),
    path(
        "admin/status/incidents/<int:incident_id>/links/", plan_views.link_add, name="status_admin_link_add"
    ),
    path(
        "admin/status/incidents/<int:incident_id>/links/<int:number>/remove/",
        plan_views.link_remove,
        name="status_admin_link_remove",
    ),
    path(
        "admin/status/incidents/<int:incident_id>/confirm/",
        plan_views.confirm,
        name="status_admin_plan_confirm",
    ),
    path(
        "admin/status/incidents/<int:incident_id>/forum/",
        plan_views.retry_forum,
        name="status_admin_plan_retry_forum",
    ),
    path(
        "admin/status/warnings/<int:warning_id>/dismiss/",
        plan_views.warning_dismiss,
        name="status_admin_warning_dismiss",
    ),
    path("admin/status/settings/", plan_views.incident_settings, name="status_admin_settings"),
    path("admin/status/security/", plan_views.security_reports, name="status_admin_security"),
    path("admin/status/security/flag/", plan_views.security_flag, name="status_admin_security_flag"),
    path(
        "admin/status/security/<int:number>/clear/",
        plan_views.security_clear,
        name="status_admin_security_clear",
    ),
    path("admin/status/maintenance/new/", admin_views.maintenance_new, name="status_admin_maintenance_new"),
    path(
        "admin/status/maintenance/<int:incident_id>/start/",
        admin_views.maintenance_step,
        {"step": "start"},
        name="status_admin_maintenance_start",
    ),
    path(
        "admin/status/maintenance/<int:incident_id>/complete/",
        admin_views.maintenance_step,
        {"step": "complete"},
        name="status_admin_maintenance_complete",
    ),
    path("admin/status/components/new/", admin_views.component_edit, name="status_admin_component_new"),
    path(
        "admin/status/components/<int:component_id>/",
        admin_views.component_edit,
        name="status_admin_component_edit",
    ),
    path(
        "admin/status/components/<int:component_id>/state/",
        admin_views.component_state,
        name="status_admin_component_state",
    ),
    path(
        "admin/status/components/<int:component_id>/archive/",
        admin_views.component_archive,
        name="status_admin_component_archive",
    ),
]
