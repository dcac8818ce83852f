from django.urls import path

from happydesk.reports import staffing_views

urlpatterns = [
    path("staffing/", staffing_views.staffing_page, name="staffing"),
    path("staffing/shifts/", staffing_views.shift_add, name="staffing_shift_add"),
    path("staffing/shifts/<int:shift_id>/delete/", staffing_views.shift_remove, name="staffing_shift_remove"),
]
