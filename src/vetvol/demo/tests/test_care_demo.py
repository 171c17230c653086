"""The care demo at a reduced scale: a small Shenzhen province, then the care objects it adds."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_reduced_care_demo_is_seeded_scoped_and_idempotent():
    from vetvol.care.models import Campaign, Case, Pairing, Recipient
    from vetvol.demo import care as demo_care
    from vetvol.regions import loader

    loader.load(max_level="township")
    args = ["--cities", "4403", "--quiet-logins", "--seed", "7"]
    size = ["--volunteers", "300", "--teams", "40", "--recipients", "30"]
    call_command("seed_demo", *args, *size, stdout=io.StringIO())

    assert Recipient.objects.count() == 30
    assert all(code.startswith("4403") for code in Recipient.objects.values_list("region_code", flat=True))
    assert Campaign.objects.count() == 1
    assert Case.objects.exists() or Pairing.objects.exists()
    assert demo_care.build(None, seed=7, recipients=30, cities=["4403"]) == {}  # already there
