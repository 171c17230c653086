"""Seed province-wide run cards for every incident type at levels 1 (larger response) and 2."""

from django.db import migrations

# type: {level: [(role name, skill code, certificate code, count)]}
CARDS = {
    "water_rescue": {
        1: [
            ("潜水员", "diving", "diver", 2),
            ("水上救援队员", "water_rescue", "", 4),
            ("船艇驾驶员", "boat_operation", "boat_licence", 1),
            ("医护", "first_aid", "", 1),
        ],
        2: [
            ("潜水员", "diving", "diver", 1),
            ("水上救援队员", "water_rescue", "", 2),
            ("船艇驾驶员", "boat_operation", "boat_licence", 1),
            ("医护", "first_aid", "", 1),
        ],
    },
    "flood": {
        1: [
            ("水上救援队员", "water_rescue", "", 6),
            ("船艇驾驶员", "boat_operation", "boat_licence", 2),
            ("医护", "first_aid", "", 2),
            ("后勤保障", "logistics", "", 4),
        ],
        2: [
            ("水上救援队员", "water_rescue", "", 3),
            ("船艇驾驶员", "boat_operation", "boat_licence", 1),
            ("医护", "first_aid", "", 1),
            ("后勤保障", "logistics", "", 2),
        ],
    },
    "typhoon": {
        1: [
            ("抢险后勤", "logistics", "", 8),
            ("电工", "electrician", "", 2),
            ("医护", "first_aid", "", 2),
            ("驾驶员", "driving", "", 2),
        ],
        2: [
            ("抢险后勤", "logistics", "", 4),
            ("电工", "electrician", "", 1),
            ("医护", "first_aid", "", 1),
            ("驾驶员", "driving", "", 1),
        ],
    },
    "missing_person": {
        1: [
            ("搜救队员", "mountain_search", "", 6),
            ("无人机操控员", "drone", "", 2),
            ("医护", "first_aid", "", 1),
            ("通信保障", "communications", "", 1),
        ],
        2: [
            ("搜救队员", "mountain_search", "", 3),
            ("无人机操控员", "drone", "", 1),
            ("医护", "first_aid", "", 1),
        ],
    },
    "fire_support": {
        1: [
            ("消防支援", "firefighting", "", 4),
            ("医护", "first_aid", "", 2),
            ("秩序维护", "crowd_control", "", 2),
            ("后勤保障", "logistics", "", 2),
        ],
        2: [
            ("消防支援", "firefighting", "", 2),
            ("医护", "first_aid", "", 1),
            ("秩序维护", "crowd_control", "", 1),
        ],
    },
    "traffic_accident": {
        1: [
            ("交通疏导", "traffic_guidance", "", 4),
            ("医护", "first_aid", "", 2),
            ("驾驶员", "driving", "", 1),
        ],
        2: [("交通疏导", "traffic_guidance", "", 2), ("医护", "first_aid", "", 1)],
    },
    "epidemic": {
        1: [
            ("秩序维护", "crowd_control", "", 6),
            ("护理", "nursing", "", 2),
            ("后勤保障", "logistics", "", 4),
        ],
        2: [
            ("秩序维护", "crowd_control", "", 3),
            ("护理", "nursing", "", 1),
            ("后勤保障", "logistics", "", 2),
        ],
    },
    "large_event": {
        1: [
            ("秩序维护", "crowd_control", "", 10),
            ("医护", "first_aid", "", 2),
            ("交通疏导", "traffic_guidance", "", 4),
        ],
        2: [
            ("秩序维护", "crowd_control", "", 5),
            ("医护", "first_aid", "", 1),
            ("交通疏导", "traffic_guidance", "", 2),
        ],
    },
    "spring_travel": {
        1: [
            ("旅客引导", "crowd_control", "", 6),
            ("医护", "first_aid", "", 1),
            ("后勤保障", "logistics", "", 2),
        ],
        2: [
            ("旅客引导", "crowd_control", "", 3),
            ("医护", "first_aid", "", 1),
            ("后勤保障", "logistics", "", 1),
        ],
    },
    "other": {
        1: [("志愿者", "", "", 4), ("医护", "first_aid", "", 1)],
        2: [("志愿者", "", "", 2)],
    },
}


def seed(apps, schema_editor):
    RunCard = apps.get_model("dispatch", "RunCard")
    RunCardRole = apps.get_model("dispatch", "RunCardRole")
    for incident_type, levels in CARDS.items():
        for level, roles in levels.items():
            card, created = RunCard.objects.get_or_create(
                incident_type=incident_type, level=level, region_code="44", defaults={"note": "全省默认预案"}
            )
            if created:
                RunCardRole.objects.bulk_create(
                    [
                        RunCardRole(run_card=card, name=n, skill_code=s, certificate_code=c, count=k)
                        for n, s, c, k in roles
                    ]
                )


def unseed(apps, schema_editor):
    apps.get_model("dispatch", "RunCard").objects.filter(region_code="44", note="全省默认预案").delete()


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
