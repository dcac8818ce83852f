"""Permission-checked fetching: views and API endpoints get conversations only through these."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from happydesk.accounts.models import User
from happydesk.inbox.models import Conversation

if TYPE_CHECKING:
    from happydesk.customers.models import Customer


def conversations_for_agent(agent: User) -> QuerySet[Conversation]:
    """Every conversation this agent may see: all agents share the inbox, except that security reports
    (flagged by security.py) are for full agents only, never light agents."""
    if not agent.is_active:
        return Conversation.objects.none()
    if agent.role == User.Role.LIGHT:
        return conversations_every_agent_may_see()
    return Conversation.objects.all()


def conversations_every_agent_may_see() -> QuerySet[Conversation]:
    """What any agent, light ones included, may see: everything but security reports. For readers who
    are not known by name (report share links, the emailed digest)."""
    return Conversation.objects.exclude(security_flag__active=True)


def access_conversation_for_agent(agent: User, number: int) -> Conversation:
    """The conversation with this number if the agent may see it, else 404 (never a hint it exists)."""
    conversation = (
        conversations_for_agent(agent)
        .select_related("mailbox", "customer", "assignee", "security_flag")
        .filter(pk=number)
        .first()
    )
    if conversation is None:
        raise Http404("No such conversation")
    return conversation


def access_conversation_for_customer(token: str) -> Conversation:
    """The conversation a customer's secret link points to."""
    conversation = (
        Conversation.objects.select_related("mailbox", "customer")
        .filter(Conversation.with_token(token))
        .exclude(status=Conversation.Status.SPAM)
        .first()
    )
    if conversation is None:
        raise Http404("No such conversation")
    return conversation


def conversations_for_customer(customer: Customer) -> QuerySet[Conversation]:
    """A signed-in customer's own conversations (never spam)."""
    return Conversation.objects.filter(customer=customer).exclude(status=Conversation.Status.SPAM)
