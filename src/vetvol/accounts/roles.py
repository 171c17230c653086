"""Roles and what each may do. A role is granted on a region node and covers its whole subtree."""

from __future__ import annotations

from django.db import models

from vetvol.core.scoping import Action


class Role(models.TextChoices):
    PROVINCE_ADMIN = "province_admin", "省级管理员"
    CITY_ADMIN = "city_admin", "市级管理员"
    DISTRICT_ADMIN = "district_admin", "区县级管理员"
    STATION_STAFF = "station_staff", "服务中心（站）工作人员"
    TEAM_LEADER = "team_leader", "志愿服务队队长"
    VOLUNTEER = "volunteer", "志愿者"
    SOCIAL_WORKER = "social_worker", "社工"
    AUDITOR = "auditor", "审计员"


_ADMIN = {Action.VIEW, Action.CHANGE, Action.UNMASK, Action.MANAGE_USERS, Action.EXPORT}
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.PROVINCE_ADMIN: frozenset(_ADMIN),
    Role.CITY_ADMIN: frozenset(_ADMIN),
    Role.DISTRICT_ADMIN: frozenset(_ADMIN),
    Role.STATION_STAFF: frozenset({Action.VIEW, Action.CHANGE}),
    Role.TEAM_LEADER: frozenset({Action.VIEW}),
    Role.VOLUNTEER: frozenset({Action.VIEW}),
    Role.SOCIAL_WORKER: frozenset({Action.VIEW}),
    # The auditor reads everything in scope, the audit log included, and never writes.
    Role.AUDITOR: frozenset({Action.VIEW, Action.VIEW_AUDIT}),
}

# Roles whose holders must pass a TOTP second factor at login.
SECOND_FACTOR_ROLES = frozenset({Role.PROVINCE_ADMIN, Role.CITY_ADMIN, Role.DISTRICT_ADMIN, Role.AUDITOR})

# Admin roles are bound to a node of their own level; the others may sit on any node.
REQUIRED_LEVEL = {
    Role.PROVINCE_ADMIN: "province",
    Role.CITY_ADMIN: "city",
    Role.DISTRICT_ADMIN: "county",
}

# Who may grant which roles (always only inside the granter's own scope).
GRANTABLE_BY: dict[str, frozenset[str]] = {
    Role.PROVINCE_ADMIN: frozenset(Role.values),
    Role.CITY_ADMIN: frozenset(Role.values) - {Role.PROVINCE_ADMIN},
    Role.DISTRICT_ADMIN: frozenset(Role.values) - {Role.PROVINCE_ADMIN, Role.CITY_ADMIN},
}
