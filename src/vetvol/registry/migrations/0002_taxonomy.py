"""The initial skills and certificate types. Admins extend the taxonomy later; this only adds what is missing."""

import json
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parents[1] / "data" / "taxonomy.json"


def forward(apps, schema_editor):
    Skill = apps.get_model("registry", "Skill")
    CertificateType = apps.get_model("registry", "CertificateType")
    data = json.loads(DATA.read_text(encoding="utf-8"))
    for code, name, category in data["skills"]:
        Skill.objects.get_or_create(code=code, defaults={"name": name, "category": category})
    skills = {s.code: s for s in Skill.objects.all()}
    for code, name, skill, expires in data["certificate_types"]:
        CertificateType.objects.get_or_create(
            code=code, defaults={"name": name, "skill": skills[skill], "expires": expires}
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop)]
