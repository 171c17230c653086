"""The national-system export of hour records: counted records only, ID numbers only when permitted."""

import csv
import io
from datetime import date

from vetvol.activities import actions
from vetvol.core.models import AuditEntry
from vetvol.regions.models import Region


def _rows(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text)))


def test_export_lists_counted_records_with_ids_for_permitted_users(client, people, make_volunteer):
    v = make_volunteer(1)
    counted = actions.enter_hours(
        people.station_staff,
        v,
        region=Region.objects.get(code="440304001"),
        day=date(2026, 3, 1),
        minutes=90,
        content="社区走访",
        reason="纸质表",
    )
    actions.approve_hours(people.futian_admin, counted)
    actions.enter_hours(
        people.station_staff,
        v,
        region=Region.objects.get(code="440304001"),
        day=date(2026, 3, 2),
        minutes=60,
        content="未审核",
        reason="纸质表",
    )  # pending: not exported
    client.force_login(people.futian_admin)
    rows = _rows(client.get("/activities/export/hours.csv?region=440304"))
    assert rows[0][:4] == ["志愿者编号", "姓名", "证件类型", "证件号码"]
    assert [(r[0], r[3], r[7], r[10]) for r in rows[1:]] == [(v.number, v.id_number, "2026-03-01", "1.5")]
    assert AuditEntry.objects.filter(action="activities.export", actor=people.futian_admin).count() == 1


def test_export_needs_the_export_right(client, people):
    client.force_login(people.station_staff)
    assert client.get("/activities/export/hours.csv").status_code == 403
    client.force_login(people.futian_admin)
    assert client.get("/activities/export/hours.csv?from=2026-13-01").status_code == 400
