"""The demo's people: one login per role, at the levels the conventions name."""

from __future__ import annotations

from dataclasses import dataclass

from vetvol.accounts.roles import Role

DEMO_PASSWORD = "Vetvol-demo-2026"  # noqa: S105  (printed by `make demo`; never used outside the demo)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    display_name: str
    role: str
    region_code: str


DEMO_ACCOUNTS = [
    DemoAccount("gd_admin", "省厅管理员 王建国", Role.PROVINCE_ADMIN, "44"),
    DemoAccount("sz_admin", "深圳市管理员 刘海峰", Role.CITY_ADMIN, "4403"),
    DemoAccount("futian_admin", "福田区管理员 陈志强", Role.DISTRICT_ADMIN, "440304"),
    DemoAccount("tianhe_admin", "天河区管理员 黄伟明", Role.DISTRICT_ADMIN, "440106"),
    DemoAccount("nanyuan_staff", "南园街道服务站 李秀英", Role.STATION_STAFF, "440304001"),
    DemoAccount("hongxing_leader", "红星志愿服务队队长 张卫东", Role.TEAM_LEADER, "440304"),
    DemoAccount("volunteer_zhou", "志愿者 周德明", Role.VOLUNTEER, "440304001"),
    DemoAccount("tianhe_social", "天河区社工 林晓燕", Role.SOCIAL_WORKER, "440106"),
    DemoAccount("gd_auditor", "省厅审计员 赵敏", Role.AUDITOR, "44"),
]

LOGIN_DISTRICTS = ("440304", "440106")  # Futian and Tianhe, where the district logins work
