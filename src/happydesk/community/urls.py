from django.urls import path

from happydesk.community import agent_views, public_views

T = "community/topics/<int:topic_id>/"

urlpatterns = [
    # Public: everyone reads; signed-in customers (portal link) post, vote and follow.
    path("community/", public_views.home, name="community_home"),
    path("community/search/", public_views.search, name="community_search"),
    path("community/sign-in/", public_views.sign_in, name="community_sign_in"),
    path("community/ask/", public_views.ask, name="community_ask"),
    path("community/topics/<int:topic_id>-<slug:slug>/", public_views.topic, name="community_topic"),
    path(T, public_views.topic_short, name="community_topic_short"),
    path(T + "answer/", public_views.answer, name="community_answer"),
    path(T + "vote/", public_views.vote, name="community_vote"),
    path(T + "follow/", public_views.follow, name="community_follow"),
    path(T + "edit/", public_views.topic_edit, name="community_topic_edit"),
    path(T + "posts/<int:post_id>/edit/", public_views.post_edit, name="community_post_edit"),
    path(T + "posts/<int:post_id>/vote/", public_views.post_vote, name="community_post_vote"),
    path(T + "posts/<int:post_id>/accept/", public_views.accept, name="community_accept"),
    path("community/ideas/", public_views.ideas, name="community_ideas"),
    path("community/ideas/new/", public_views.idea_new, name="community_idea_new"),
    path("community/ideas/<int:topic_id>-<slug:slug>/", public_views.idea, name="community_idea"),
    path("community/known-issues/", public_views.known_issues, name="community_known_issues"),
    path("community/known-issues/new/", public_views.known_issue_new, name="community_known_issue_new"),
    path(
        "community/known-issues/<int:topic_id>-<slug:slug>/",
        public_views.known_issue,
        name="community_known_issue",
    ),
    path("community/announcements/", public_views.announcements, name="community_announcements"),
    path(
        "community/announcements/seen/", public_views.announcements_seen, name="community_announcements_seen"
    ),
    path(
        "community/announcements/<int:announcement_id>-<slug:slug>/",
        public_views.announcement,
        name="community_announcement",
    ),
    # The team's side.
    path("community/manage/", agent_views.manage, name="community_manage"),
    path(T + "moderate/", agent_views.topic_moderate, name="community_moderate"),
    path(T + "merge/", agent_views.merge, name="community_merge"),
    path(T + "move/", agent_views.move, name="community_move"),
    path(T + "status/", agent_views.status, name="community_status"),
    path(T + "link/", agent_views.link_from_topic, name="community_link"),
    path(T + "history/", agent_views.history, name="community_history"),
    path("community/manage/bans/<int:customer_id>/lift/", agent_views.ban_lift, name="community_ban_lift"),
    path(
        "community/conversations/<int:number>/link/",
        agent_views.link_from_conversation,
        name="community_conversation_link",
    ),
    path(
        "community/conversations/<int:number>/unlink/<int:topic_id>/",
        agent_views.unlink,
        name="community_conversation_unlink",
    ),
    path(
        "community/manage/announcements/",
        agent_views.announcement_list,
        name="community_manage_announcements",
    ),
    path(
        "community/manage/announcements/new/",
        agent_views.announcement_edit,
        name="community_manage_announcement_new",
    ),
    path(
        "community/manage/announcements/<int:announcement_id>/",
        agent_views.announcement_edit,
        name="community_manage_announcement",
    ),
    path(
        "community/manage/announcements/<int:announcement_id>/delete/",
        agent_views.announcement_delete,
        name="community_manage_announcement_delete",
    ),
]
