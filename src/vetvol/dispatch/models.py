"""Emergency dispatch: incidents, run cards, needs per role, invitations, assignments, the location index.

Claims are decided by the database: a need's `filled < count` is taken by a conditional UPDATE checked by
its row count, `filled <= count` is a CHECK, and a volunteer holds at most one active assignment (a partial
UNIQUE on the volunteer). Nobody is assigned without accepting an invitation (no forced assignment).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from vetvol.core.crypto import EncryptedTextField
from vetvol.core.models import RegionScopedModel
from vetvol.core.scoping import Action


class IncidentType(models.TextChoices):
    WATER_RESCUE = "water_rescue", "水上救援/溺水"
    FLOOD = "flood", "洪涝"
    TYPHOON = "typhoon", "台风"
    MISSING_PERSON = "missing_person", "失踪人员搜寻"
    FIRE_SUPPORT = "fire_support", "火灾支援"
    TRAFFIC_ACCIDENT = "traffic_accident", "交通事故支援"
    EPIDEMIC = "epidemic", "疫情防控"
    LARGE_EVENT = "large_event", "大型活动秩序"
    SPRING_TRAVEL = "spring_travel", "春运服务站"
    OTHER = "other", "其他"


class IncidentStatus(models.TextChoices):
    REPORTED = "reported", "已报告"
    DISPATCHING = "dispatching", "调度中"
    ON_SCENE = "on_scene", "现场处置"
    CLOSED = "closed", "已结束"


class Incident(RegionScopedModel):
    """Something that happened at a place and needs volunteers; `region_code` is the node it happened in."""

    type = models.CharField("类型", max_length=20, choices=IncidentType.choices)
    level = models.PositiveSmallIntegerField("等级", default=2)
    title = models.CharField("标题", max_length=120)
    lat = models.FloatField("纬度")
    lng = models.FloatField("经度")
    address = models.CharField("地址", max_length=200, blank=True)
    reporter_name = models.CharField("报告人", max_length=50, blank=True)
    reporter_phone = EncryptedTextField("报告人电话", blank=True)
    commander = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        "状态", max_length=12, choices=IncidentStatus.choices, default=IncidentStatus.REPORTED
    )
    risky = models.BooleanField("高风险（仅邀请当日在保志愿者）", default=False)
    opened_at = models.DateTimeField("开始时间")
    closed_at = models.DateTimeField("结束时间", null=True, blank=True)
    people_rescued = models.PositiveIntegerField("救出人数", default=0)
    bodies_recovered = models.PositiveIntegerField("打捞遗体", default=0)
    people_served = models.PositiveIntegerField("服务人次", default=0)
    summary = models.TextField("行动总结", blank=True, max_length=5000)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=4), name="dispatch_incident_level"),
        ]
        indexes = [models.Index(fields=["status", "region_code"], name="dispatch_incident_status_rgn")]
        verbose_name = "突发事件"
        verbose_name_plural = "突发事件"

    def __str__(self) -> str:
        return self.title


class RunCard(RegionScopedModel):
    """A response plan: for an incident type and level, which roles and how many. The most specific card
    (longest region code that is a prefix of the incident's) applies; the seeded cards sit on the province."""

    incident_type = models.CharField("事件类型", max_length=20, choices=IncidentType.choices)
    level = models.PositiveSmallIntegerField("等级")
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        ordering = ["incident_type", "level", "region_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident_type", "level", "region_code"], name="dispatch_runcard_unique"
            ),
            models.CheckConstraint(condition=Q(level__gte=1, level__lte=4), name="dispatch_runcard_level"),
        ]
        verbose_name = "响应预案"
        verbose_name_plural = "响应预案"

    def __str__(self) -> str:
        return f"{self.incident_type}/{self.level}@{self.region_code}"

    @classmethod
    def owner_q(cls, user: Any, action: str) -> Q | None:
        """Cards on the nodes above one's grants apply to one's incidents: they may be read (not changed)."""
        if action != Action.VIEW:
            return None
        from vetvol.core.scoping import allowed_prefixes

        prefixes = allowed_prefixes(user, Action.VIEW) or []
        above = {p[:n] for p in prefixes for n in (2, 4, 6, 9) if n < len(p)}
        return Q(region_code__in=above) if above else None


class RunCardRole(models.Model):
    run_card = models.ForeignKey(RunCard, on_delete=models.CASCADE, related_name="roles")
    name = models.CharField("岗位", max_length=40)
    skill_code = models.CharField("技能", max_length=40, blank=True)
    certificate_code = models.CharField("证书", max_length=40, blank=True)
    count = models.PositiveSmallIntegerField("人数")

    class Meta:
        ordering = ["run_card", "id"]
        constraints = [models.CheckConstraint(condition=Q(count__gte=1), name="dispatch_runcardrole_count")]

    def __str__(self) -> str:
        return f"{self.name}×{self.count}"


class Need(models.Model):
    """One role of an incident's plan: how many, how many filled, how far the search has widened."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="needs")
    name = models.CharField("岗位", max_length=40)
    skill_code = models.CharField(max_length=40, blank=True)
    certificate_code = models.CharField(max_length=40, blank=True)
    count = models.PositiveSmallIntegerField()
    filled = models.PositiveSmallIntegerField(default=0)
    radius_step = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["incident", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(filled__lte=models.F("count")), name="dispatch_need_not_overfilled"
            ),
            models.CheckConstraint(condition=Q(filled__gte=0), name="dispatch_need_filled_nonneg"),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.filled}/{self.count}"


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "待回复"
    ACCEPTED = "accepted", "已接受"
    DECLINED = "declined", "已拒绝"
    EXPIRED = "expired", "已超时"
    CANCELLED = "cancelled", "已取消"


class _VolunteerOwned(RegionScopedModel):
    """Rows the invited volunteer reaches through their own account; staff through the incident's region."""

    class Meta:
        abstract = True

    @classmethod
    def owner_q(cls, user: Any, action: str) -> Q | None:
        if action in (Action.VIEW, Action.CHANGE):
            return Q(volunteer__user_id=user.pk)
        return None


class TeamInvitation(RegionScopedModel):
    """A team invited as a whole: its leader picks members, each of whom still gets an invitation."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="team_invitations")
    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="team_invitations")
    team = models.ForeignKey("registry.Team", on_delete=models.PROTECT, related_name="+")
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["need", "team"], name="dispatch_teaminvitation_unique"),
        ]

    @classmethod
    def owner_q(cls, user: Any, action: str) -> Q | None:
        from vetvol.registry.models.teams import LEADING_ROLES, Membership

        led = Membership.objects.filter(volunteer__user_id=user.pk, role__in=LEADING_ROLES, left_on=None)
        return Q(team_id__in=led.values("team_id"))

    def __str__(self) -> str:
        return f"team {self.team_id} → {self.incident_id}"


class Invitation(_VolunteerOwned):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="invitations")
    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="invitations")
    volunteer = models.ForeignKey("registry.Volunteer", on_delete=models.PROTECT, related_name="+")
    team_invitation = models.ForeignKey(
        TeamInvitation, null=True, blank=True, on_delete=models.SET_NULL, related_name="invitations"
    )
    status = models.CharField(
        max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING
    )
    round = models.PositiveSmallIntegerField(default=0)
    distance_km = models.FloatField(null=True, blank=True)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            # never invite the same person twice to the same incident
            models.UniqueConstraint(fields=["incident", "volunteer"], name="dispatch_invitation_once"),
        ]
        indexes = [models.Index(fields=["status", "expires_at"], name="dispatch_inv_status_expiry")]

    def __str__(self) -> str:
        return f"{self.volunteer_id}→{self.need_id} {self.status}"


class AssignmentStatus(models.TextChoices):
    ACCEPTED = "accepted", "已接受"
    EN_ROUTE = "en_route", "出发中"
    ON_SCENE = "on_scene", "已到场"
    DONE = "done", "已完成"
    WITHDRAWN = "withdrawn", "已撤回"


ACTIVE_ASSIGNMENT = (AssignmentStatus.ACCEPTED, AssignmentStatus.EN_ROUTE, AssignmentStatus.ON_SCENE)
STATUS_FLOW = {
    AssignmentStatus.ACCEPTED: (AssignmentStatus.EN_ROUTE, AssignmentStatus.ON_SCENE, AssignmentStatus.DONE),
    AssignmentStatus.EN_ROUTE: (AssignmentStatus.ON_SCENE, AssignmentStatus.DONE),
    AssignmentStatus.ON_SCENE: (AssignmentStatus.DONE,),
}


class Assignment(_VolunteerOwned):
    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="assignments")
    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="assignments")
    invitation = models.OneToOneField(Invitation, on_delete=models.CASCADE, related_name="assignment")
    volunteer = models.ForeignKey("registry.Volunteer", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=AssignmentStatus.choices, default=AssignmentStatus.ACCEPTED
    )
    accepted_at = models.DateTimeField()
    status_at = models.DateTimeField()
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["accepted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["volunteer"],
                condition=Q(status__in=["accepted", "en_route", "on_scene"]),
                name="dispatch_one_active_assignment",
                violation_error_message="该志愿者已有进行中的任务",
            ),
        ]
        indexes = [models.Index(fields=["volunteer", "accepted_at"], name="dispatch_asg_vol_accepted")]

    def __str__(self) -> str:
        return f"{self.volunteer_id}@{self.incident_id} {self.status}"


class LocationSource(models.TextChoices):
    HOME = "home", "常驻点"
    LIVE = "live", "实时位置"


class VolunteerLocation(models.Model):
    """The candidate-search index: one home row per volunteer (kept in sync with the registry) and at most
    one live row (the latest shared position while on duty, deleted when the assignment ends).

    `cell` is a 0.01° grid cell number: row (lat) × 36000 + column (lng). A radius's bounding box is a few
    contiguous cell ranges per grid row, each one B-tree range scan on (cell). `skills` is a lossy bitmask
    (bit = skill id mod 63) that lets the index drop most rows before the exact skill/certificate checks.
    """

    volunteer = models.ForeignKey("registry.Volunteer", on_delete=models.CASCADE, related_name="+")
    source = models.CharField(max_length=4, choices=LocationSource.choices)
    lat = models.FloatField()
    lng = models.FloatField()
    cell = models.IntegerField()
    skills = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["volunteer", "source"], name="dispatch_location_one_per_source"),
        ]
        indexes = [
            models.Index(
                fields=["cell"],
                include=["lat", "lng", "skills", "volunteer", "source", "updated_at"],
                name="dispatch_location_cell",
            )
        ]

    def __str__(self) -> str:
        return f"{self.volunteer_id} {self.source} {self.lat},{self.lng}"


class BoardEvent(RegionScopedModel):
    """The live board's journal: each dispatch event, numbered after commit, so a board that reconnects
    replays what it missed (`seq` greater than the last one it saw) and an incident shows its timeline.
    Visible to whoever may see people in its region (the board shows where volunteers are). The dispatch
    clock prunes rows older than a day."""

    seq = models.BigAutoField(primary_key=True)
    name = models.CharField(max_length=40)
    incident_id = models.BigIntegerField(null=True, blank=True)
    payload = models.JSONField(default=dict)
    at = models.DateTimeField(db_index=True)

    region_actions = {Action.VIEW: Action.VIEW_PEOPLE}

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["incident_id", "seq"], name="dispatch_boardevent_incident")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.name}"
