from django.urls import path

from happydesk.feedback import views

urlpatterns = [
    path("rate/<str:token>/thanks/", views.rate_thanks, name="rate_thanks"),
    path("rate/<str:token>/<str:value>/", views.rate, name="rate"),
    path("ratings/", views.ratings, name="ratings"),
]
