from django.urls import path

from happydesk.replies import views

urlpatterns = [
    path("replies/", views.saved_replies, name="saved_replies"),
    path("replies/new/", views.saved_reply_edit, name="saved_reply_new"),
    path("replies/<int:reply_id>/", views.saved_reply_edit, name="saved_reply_edit"),
    path("c/<int:number>/saved-replies/<int:reply_id>/", views.saved_reply_insert, name="saved_reply_insert"),
]
