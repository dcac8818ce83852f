from django.urls import path

from happydesk.kb import agent_views, public_views

urlpatterns = [
    # Public help centre. Fixed segments come before /help/<collection>/, and no collection may take
    # them as its slug (services.RESERVED_SLUGS).
    path("help/", public_views.help_home, name="kb_help_home"),
    path("help/search/", public_views.help_search, name="kb_help_search"),
    path("help/sitemap.xml", public_views.sitemap, name="kb_sitemap"),
    path("help/articles/<int:article_id>/", public_views.article_short, name="kb_article_short"),
    path("help/articles/<int:article_id>-<slug:slug>/", public_views.article, name="kb_article"),
    path("help/articles/<int:article_id>/feedback/", public_views.feedback, name="kb_feedback"),
    path("help/<slug:collection_slug>/", public_views.collection, name="kb_collection"),
    path("help/<slug:collection_slug>/<slug:category_slug>/", public_views.category, name="kb_category"),
    # The team's side.
    path("kb/", agent_views.article_list, name="kb_articles"),
    path("reports/searches/", agent_views.searches_without_results, name="search_no_results"),
    path("kb/new/", agent_views.article_edit, name="kb_article_new"),
    path("kb/structure/", agent_views.structure, name="kb_structure"),
    path("kb/articles/<int:article_id>/", agent_views.article_edit, name="kb_article_edit"),
    path(
        "kb/articles/<int:article_id>/unpublish/", agent_views.article_unpublish, name="kb_article_unpublish"
    ),
    path("kb/articles/<int:article_id>/history/", agent_views.article_history, name="kb_article_history"),
    path(
        "kb/articles/<int:article_id>/versions/<int:version_id>/restore/",
        agent_views.version_restore,
        name="kb_version_restore",
    ),
    path(
        "kb/from-reply/<int:number>/<int:message_id>/",
        agent_views.article_from_reply,
        name="kb_article_from_reply",
    ),
]
