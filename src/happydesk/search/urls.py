from django.urls import path

from happydesk.search import views

urlpatterns = [
    path("admin/search/synonyms/", views.synonyms, name="search_synonyms"),
]
