"""Care fixtures: recipients registered through the real action."""

from __future__ import annotations

from datetime import date

import pytest

from vetvol.core.idcard import generate_id_number


def recipient_raw(seq: int, region: str = "440304001", **overrides):
    raw = {
        "name": f"对象{'甲乙丙丁戊己庚辛壬癸'[seq % 10]}{'一二三四五六七八九十'[seq // 10 % 10]}",
        "id_number": generate_id_number(
            region[:6], date(1940 + seq % 30, 1 + seq % 12, 1 + seq % 28), 500 + seq % 400, "MF"[seq % 2]
        ),
        "category": "veteran",
        "region": region,
        "phone": f"139{seq:08d}",
        "address": f"福田区南园路 {seq} 号 3 栋 501",
        "health_notes": f"高血压，{seq} 号病历",
        "service_consent": True,
    }
    raw.update(overrides)
    return raw


@pytest.fixture
def make_recipient(people):
    from vetvol.care import actions

    def make(seq: int, region: str = "440304001", actor=None, **overrides):
        return actions.register_recipient(actor or people.root, recipient_raw(seq, region, **overrides))

    return make


@pytest.fixture
def own_volunteer(people, make_volunteer):
    """The `volunteer` login's own volunteer record (a party member in Nanyuan street)."""
    from vetvol.registry.models import Volunteer

    v = make_volunteer(2, is_party_member=True)
    Volunteer.objects.filter(pk=v.pk).update(user=people.volunteer)
    v.refresh_from_db()
    return v
