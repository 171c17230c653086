"""Fund fixtures: donors and money booked through the real actions."""

from __future__ import annotations

from datetime import date

import pytest

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def evidence():
    from vetvol.fund.actions import Upload

    return lambda name="申请书.pdf": [Upload(name, PDF)]


@pytest.fixture
def donor(people):
    from vetvol.fund import actions

    return actions.create_donor(
        people.province_admin,
        kind="unit",
        name="广东某建设集团有限公司",
        region_code="44",
        publish_consent=True,
    )


@pytest.fixture
def funded(people, donor):
    """200,000 yuan for safeguards, province-wide, and 100,000 for Shenzhen's mechanism building."""
    from vetvol.fund import actions

    actions.record_donation(
        people.province_admin,
        donor,
        form="money",
        amount="200000",
        purpose="safeguards",
        region_code="44",
        received_on=date(2026, 11, 2),
    )
    actions.record_donation(
        people.province_admin,
        donor,
        form="money",
        amount="100000",
        purpose="mechanism",
        region_code="4403",
        received_on=date(2026, 11, 3),
    )
    return donor
