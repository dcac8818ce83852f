"""Report endpoints of the REST API: the company posts a business volume per day (orders, active users,
transactions) so the report can show contacts per transaction. Registered on the v1 API in api/api.py."""

from __future__ import annotations

from datetime import date

from ninja import Query, Router, Schema, Status
from pydantic import Field

from happydesk.accounts.decorators import AgentRequest
from happydesk.reports import services
from happydesk.reports.models import BusinessVolume

router = Router(tags=["reports"])


class BusinessVolumeIn(Schema):
    date: date
    metric: str = Field(min_length=1, max_length=50, description='e.g. "orders", "active-users"')
    value: int = Field(ge=0)


class BusinessVolumeOut(Schema):
    date: date
    metric: str
    value: int
    source: str


class ReportError(Schema):
    detail: str


@router.post("/business-volume", response={201: BusinessVolumeOut, 403: ReportError, 422: ReportError})
def post_business_volume(request: AgentRequest, payload: BusinessVolumeIn) -> Status[BusinessVolume | dict]:
    """Set a day's business figure; posting the same date and metric again replaces it. Admins only."""
    if not request.user.is_admin:
        return Status(403, {"detail": "admins only"})
    try:
        row = services.business_volume_record(
            day=payload.date, metric=payload.metric, value=payload.value, source="api"
        )
    except ValueError as exc:
        return Status(422, {"detail": str(exc)})
    return Status(201, row)


@router.get("/business-volume", response=list[BusinessVolumeOut])
def list_business_volume(
    request: AgentRequest,
    metric: str | None = None,
    since: date | None = None,
    limit: int = Query(100, ge=1, le=1000),
) -> list[BusinessVolume]:
    """The posted figures, newest first."""
    qs = BusinessVolume.objects.all()
    if metric:
        qs = qs.filter(metric=services.normalise_metric(metric))
    if since:
        qs = qs.filter(date__gte=since)
    return list(qs[:limit])
