"""The default care plans: per life event type and level, what to do and how soon (like run cards).

Response hours and durations are for the "important" level; urgent halves the response time and shortens
the case, routine doubles them. Stations' admins adjust plans in the admin; the data migration seeds these.
"""

from __future__ import annotations

from typing import Any

# Per event type: (services, skill codes, response hours, visits, duration days) at the "important" level
DEFAULTS: dict[str, tuple[list[str], list[str], int, int, int]] = {
    "merit": (["登门贺喜送喜报", "协助悬挂光荣牌或更新立功证书"], [], 72, 1, 30),
    "enlist_discharge": (
        ["上门走访了解需求", "政策宣讲（安置、优待）", "就业创业信息推送"],
        ["policy_lecture"],
        72,
        1,
        30,
    ),
    "holiday": (["节日走访慰问", "送慰问品"], ["home_visit"], 72, 1, 15),
    "illness": (["医院或家中看望", "协助申请医疗救助", "陪同就医"], ["nursing"], 24, 3, 30),
    "disaster": (["现场查看灾情", "协助申请临时救助", "组织志愿者帮助修缮清理"], ["electrician"], 12, 3, 30),
    "death": (["上门吊唁慰问", "协助办理抚恤和后事", "关心遗属生活"], [], 24, 2, 15),
    "hardship": (["入户核实困难情况", "协助申请救助帮扶", "链接社会资源"], ["elderly_care"], 48, 2, 60),
    "rights": (["了解诉求", "法律咨询与援助", "协调相关部门"], ["legal_aid"], 72, 2, 60),
    "employment": (["了解就业创业需求", "推荐岗位或培训", "创业政策咨询"], [], 72, 2, 90),
    "emotional": (["谈心谈话", "心理疏导", "定期电话问候"], ["counselling"], 24, 4, 60),
}
LEVEL_FACTORS = {1: (0.5, 0.5), 2: (1.0, 1.0), 3: (2.0, 2.0)}  # level: (response ×, duration ×)


def default_plans() -> list[dict[str, Any]]:
    rows = []
    for event_type, (services, skills, hours, visits, days) in DEFAULTS.items():
        for level, (r, d) in LEVEL_FACTORS.items():
            rows.append(
                {
                    "event_type": event_type,
                    "level": level,
                    "services": services,
                    "skill_codes": skills,
                    "response_hours": max(1, round(hours * r)),
                    "visits_required": visits + (1 if level == 1 and visits > 1 else 0),
                    "duration_days": max(1, round(days * d)),
                }
            )
    return rows
