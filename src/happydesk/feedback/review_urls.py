from django.urls import path

from happydesk.feedback import review_views

urlpatterns = [
    path("reviews/", review_views.reviews, name="reviews"),
    path("reviews/samples/", review_views.review_sample_create, name="review_sample_create"),
    path("reviews/samples/<int:sample_id>/", review_views.review_sample, name="review_sample"),
    path("reviews/samples/<int:sample_id>/<int:number>/", review_views.review_score, name="review_score"),
    path("reviews/agents/<int:agent_id>/", review_views.review_agent, name="review_agent"),
]
