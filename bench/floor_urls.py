"""The benchmark's URLconf: the app's own URLs plus a floor view that runs one indexed query."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from happydesk.inbox.models import Conversation


def floor(request: HttpRequest, number: int) -> HttpResponse:
    subject = Conversation.objects.filter(pk=number).values_list("subject", flat=True).first()
    return HttpResponse(subject or "")


urlpatterns = [path("floor/<int:number>/", floor), path("", include("happydesk.urls"))]
