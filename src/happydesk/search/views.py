"""The search page for admins: synonym groups. (What help-centre searches found nothing is read by the
knowledge base's report, kb/agent_views.py, which is where the missing article gets written.)"""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import redirect, render

from happydesk.accounts.decorators import AgentRequest, admin_required
from happydesk.search import selectors, services


@admin_required
def synonyms(request: AgentRequest) -> HttpResponse:
    """One row per group of words that mean the same here; a new group at the bottom. Saving a group
    with fewer than two terms deletes it."""
    if request.method == "POST":
        raw_id = request.POST.get("group", "")
        group_id = int(raw_id) if raw_id.isdigit() else None
        if request.POST.get("action") == "delete" and group_id:
            services.synonym_group_delete(group_id=group_id)
            flash.success(request, "Synonym group deleted.")
        else:
            saved = services.synonym_group_save(terms=request.POST.get("terms", ""), group_id=group_id)
            if saved:
                flash.success(request, f"Saved: {saved.terms}.")
            elif group_id:
                flash.success(request, "Synonym group deleted (it had fewer than two terms).")
            else:
                flash.error(request, "Give at least two words or phrases, separated by commas.")
        return redirect("search_synonyms")
    return render(request, "search/synonyms.html", {"groups": selectors.synonym_groups()})
