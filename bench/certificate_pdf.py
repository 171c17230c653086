"""Certificate PDF: median time to render a service certificate with 30 records (WeasyPrint, Noto Serif CJK
SC) after a warm-up, wall clock and process CPU. Prints figures; the last line is one JSON object.

    python bench/certificate_pdf.py [--pdf out.pdf]       # SQLite under bench/out/ by default

The certificate is made through the real actions (staff entries approved by a second person, then
`issue_certificate`) once per database and reused on later runs.
"""

from __future__ import annotations

import json
import os
import secrets
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import _django

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))
RECORDS = 30
NAME = "欧阳志远"
PASSWORD = secrets.token_urlsafe(12) + "-Aa9"  # the bench's accounts never log in
CONTENTS = ["社区安全巡逻", "敬老院探访慰问", "烈士陵园祭扫引导", "春运旅客引导服务", "防汛物资搬运与值守"]

vendor = _django.setup(load_regions="township")

from django.utils import timezone  # noqa: E402

from vetvol.accounts import actions as accounts  # noqa: E402
from vetvol.accounts.models import User  # noqa: E402
from vetvol.activities import actions, certificates  # noqa: E402
from vetvol.activities.models import ServiceCertificate  # noqa: E402
from vetvol.core.idcard import generate_id_number  # noqa: E402
from vetvol.regions.models import Region  # noqa: E402
from vetvol.registry.actions import register_volunteer  # noqa: E402
from vetvol.registry.models import Volunteer  # noqa: E402


def _user(root: User, name: str, role: str, code: str) -> User:
    user = User.objects.filter(username=name).first()
    if user is None:
        user = accounts.create_user(root, username=name, password=PASSWORD, display_name=name)
        accounts.grant_role(root, user, role, Region.objects.get(code=code))
    return user


def certificate() -> ServiceCertificate:
    """The bench volunteer's certificate of 30 records, made on the first run."""
    cert = ServiceCertificate.objects.filter(volunteer__name=NAME, kind="record").order_by("-id").first()
    if cert is not None and len(cert.content["records"]) == RECORDS:
        return cert
    root = User.objects.filter(username="bench_root").first() or User.objects.create_superuser(
        "bench_root", password=PASSWORD
    )
    clerk = _user(root, "bench_futian", "district_admin", "440304")
    checker = _user(root, "bench_shenzhen", "city_admin", "4403")
    volunteer = Volunteer.objects.filter(name=NAME).first() or register_volunteer(
        root,
        {
            "name": NAME,
            "id_number": generate_id_number("440304", date(1968, 8, 1), 731, "M"),
            "phone": "13900001234",
            "home_region": "440304001",
            "service_branch": "army",
        },
    )
    futian, today = Region.objects.get(code="440304"), timezone.localdate()
    for i in range(RECORDS):
        record = actions.enter_hours(
            clerk,
            volunteer,
            region=futian,
            day=today - timedelta(days=3 * (RECORDS - i)),
            minutes=60 + 15 * (i % 20),
            content=f"{CONTENTS[i % len(CONTENTS)]}（第 {i + 1} 次）",
            reason="纸质签到表补录",
        )
        actions.approve_hours(checker, record)
    return actions.issue_certificate(clerk, volunteer, "record")


def main() -> None:
    cert = certificate()
    data = b""
    for _ in range(3):  # warm-up: imports, fonts, templates
        data = certificates.render_pdf(cert)
    if "--pdf" in sys.argv:
        Path(sys.argv[sys.argv.index("--pdf") + 1]).write_bytes(data)
    wall, cpu = [], []
    for _ in range(ROUNDS):
        w, c = time.perf_counter(), time.process_time()
        certificates.render_pdf(cert)
        wall.append((time.perf_counter() - w) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    median, median_cpu = statistics.median(wall), statistics.median(cpu)
    print(f"{len(cert.content['records'])} records, {len(data) // 1024} KiB, {ROUNDS} rounds")
    print(f"render median {median:.1f} ms (min {min(wall):.1f}, max {max(wall):.1f})")
    print(f"cpu median {median_cpu:.1f} ms")
    figures = {
        "bench": "certificate_pdf",
        "db": vendor,
        "records": len(cert.content["records"]),
        "rounds": ROUNDS,
        "render_ms": round(median, 1),
        "render_cpu_ms": round(median_cpu, 1),
        "pdf_kib": len(data) // 1024,
    }
    print(json.dumps(figures))


main()
