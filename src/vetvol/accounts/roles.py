"""Roles and what each may do. A role is granted on a region node and covers its whole subtree."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from vetvol.core.scoping import Action


class Role(models.TextChoices):
    PROVINCE_ADMIN = "province_admin", _("省级管理员")
    CITY_ADMIN = "city_admin", _("市级管理员")
    DISTRICT_ADMIN = "district_admin", _("区县级管理员")
    STATION_STAFF = "station_staff", _("服务中心（站）工作人员")
    TEAM_LEADER = "team_leader", _("志愿服务队队长")
    VOLUNTEER = "volunteer", _("志愿者")
    SOCIAL_WORKER = "social_worker", _("社工")
    AUDITOR = "auditor", _("审计员")


_ADMIN = {
    Action.VIEW,
    Action.CHANGE,
    Action.VIEW_PEOPLE,
    Action.CHANGE_PEOPLE,
    Action.UNMASK,
    Action.MANAGE_USERS,
    Action.EXPORT,
    Action.VIEW_FUND,
    Action.CHANGE_FUND,
}
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    Role.PROVINCE_ADMIN: frozenset(_ADMIN),
    Role.CITY_ADMIN: frozenset(_ADMIN),
    Role.DISTRICT_ADMIN: frozenset(_ADMIN),
    # Station staff register and verify volunteers, but see identifiers masked and export nothing in bulk.
    Role.STATION_STAFF: frozenset({Action.VIEW, Action.CHANGE, Action.VIEW_PEOPLE, Action.CHANGE_PEOPLE}),
    # Team leaders and volunteers see people through ownership only (their members, their own record).
    Role.TEAM_LEADER: frozenset({Action.VIEW}),
    Role.VOLUNTEER: frozenset({Action.VIEW}),
    Role.SOCIAL_WORKER: frozenset({Action.VIEW, Action.VIEW_PEOPLE}),
    # The auditor reads everything in scope, the audit log included, and never writes.
    Role.AUDITOR: frozenset({Action.VIEW, Action.VIEW_PEOPLE, Action.VIEW_AUDIT, Action.VIEW_FUND}),
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
