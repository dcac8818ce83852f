"""The admin's privacy actions on a customer, from the conversation page's customer column: download
everything we hold about them (`customer_export`), and erase them after a confirmation that names what
goes and what stays (`customer_erase`). The same services as `happydesk customers export|erase`, so the
audit entries are the same, with the admin as the actor. Admins only; the customer is the one the URL
names, and only that."""

from __future__ import annotations

from django.contrib import messages as flash
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_cache_control
from django.views.decorators.http import require_http_methods, require_POST

from happydesk.accounts.decorators import AgentRequest, admin_required
from happydesk.customers.models import Customer
from happydesk.privacy.erasure import ANONYMOUS, customer_erase
from happydesk.privacy.export import customer_export
from happydesk.privacy.forms import EraseConfirmForm
from happydesk.privacy.selectors import erasure_preview
from happydesk.ratelimit import client_ip


def _private(response: HttpResponse) -> HttpResponse:
    """Personal data: no cache (the browser's, a proxy's) keeps a copy."""
    patch_cache_control(response, no_store=True, private=True)
    return response


@admin_required
@require_POST
def export(request: AgentRequest, customer_id: int) -> HttpResponse:
    """The customer's archive as a download (a POST: it is recorded in the audit log)."""
    customer = get_object_or_404(Customer, pk=customer_id)
    data = customer_export(customer=customer, by=request.user, ip=client_ip(request))
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="customer-{customer.pk}-export.zip"'
    return _private(response)


def _back(request: AgentRequest) -> int | None:
    """The conversation the admin came from (?from=<number>), for the back link only."""
    number = request.GET.get("from", "")
    return int(number) if number.isdigit() and len(number) < 12 else None


@admin_required
@require_http_methods(["GET", "HEAD", "POST"])
def erase(request: AgentRequest, customer_id: int) -> HttpResponse:
    """GET: what erasing would delete and keep, and the form asking for the customer's address. POST
    with that address: erase, then the inbox (the conversation is gone). Anything else typed: the page
    again with the error, nothing deleted."""
    customer = get_object_or_404(Customer, pk=customer_id)
    form = EraseConfirmForm(request.POST or None, customer=customer)
    if request.method == "POST" and form.is_valid():
        customer_erase(customer=customer, by=request.user, ip=client_ip(request))
        flash.success(request, "Customer erased")
        return redirect("inbox")
    context = {
        "customer": customer,
        "preview": erasure_preview(customer),
        "form": form,
        "anonymous": ANONYMOUS,
        "back": _back(request),
    }
    status = 400 if request.method == "POST" else 200
    return _private(render(request, "privacy/erase_confirm.html", context, status=status))
