"""Personal data at rest: identifiers, phones, addresses and hardship notes registered through the actions
are nowhere in the raw database, neither in the SQLite file's bytes (an online backup is a page-for-page copy
of it) nor in a plain-text `pg_dump` of PostgreSQL."""

from __future__ import annotations

import io
import subprocess

import pytest
from django.core.management import call_command
from django.db import connection

from vetvol.core import backup
from vetvol.core.tests.proofs import crawl, world


def raw_database(tmp_path) -> bytes:
    if connection.vendor == "sqlite":
        path = tmp_path / "raw.sqlite3"
        call_command("backup", str(path), stdout=io.StringIO())
        return path.read_bytes()
    tool = backup._pg_tool("pg_dump", connection)
    result = subprocess.run(
        [tool, "--format=plain", "--no-password"],
        env=backup._pg_env(connection.settings_dict),
        capture_output=True,
        check=True,
    )
    return result.stdout


@pytest.mark.django_db(transaction=True)
def test_no_identifier_phone_address_or_note_is_stored_in_plain_text(people, tmp_path):
    w = world.build(people)
    raw = raw_database(tmp_path)
    assert len(raw) > 100_000
    assert "证明甲".encode() in raw  # names are not secret: the scan does see the data
    secrets = w.ids + w.phones + w.addresses + w.notes
    assert len(secrets) == 3 + 3 + 3 + 3 + 2 + 1 + 1 + 1 - 1  # 4 IDs, 6 phones, 4 addresses, 2 notes
    found = [s for s in secrets if s.encode() in raw]
    assert found == []
    assert crawl.FULL_ID.findall(raw.decode("utf-8", errors="replace")) == []


def test_edit_form_shows_identifiers_masked_without_unmask_and_keeps_them(client, people, make_volunteer):
    """Found by the scanner: the volunteer edit form pre-filled the full ID number, phone and address for
    station staff, who may change people but not unmask them."""
    v = make_volunteer(41, address="福田区南园路四十一号")
    client.force_login(people.station_staff)
    url = f"/registry/volunteers/{v.pk}/edit/"
    page = client.get(url).content.decode()
    assert v.id_number not in page and v.phone not in page and v.address not in page
    assert 'value="138****0041"' in page and 'value="福田区南园路****"' in page
    form = {
        "name": v.name,
        "phone": "138****0041",
        "home_region": "440304001",
        "address": "福田区南园路****",
        "service_branch": "army",
        "enlistment_year": v.enlistment_year,
        "discharge_year": v.discharge_year,
    }
    assert client.post(url, form).status_code == 302
    v.refresh_from_db()
    assert (v.phone, v.address) == ("13800000041", "福田区南园路四十一号")
    assert client.post(url, {**form, "phone": "13900000041"}).status_code == 302
    v.refresh_from_db()
    assert (v.phone, v.address) == ("13900000041", "福田区南园路四十一号")
    client.force_login(people.futian_admin)  # who may unmask sees them masked too, and reveals one (audited)
    page = client.get(url).content.decode()
    assert "13900000041" not in page and v.id_number not in page and 'value="139****0041"' in page
