"""Life events, the per-type plans they open cases from, and cases with their team, tasks, timeline and
referrals."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q

from vetvol.core.crypto import EncryptedTextField
from vetvol.core.models import RegionScopedModel, TimeStampedModel
from vetvol.core.scoping import Action


class LifeEventType(models.TextChoices):
    """The ten triggers of care (the report's list)."""

    MERIT = "merit", "立功受奖"
    ENLIST_DISCHARGE = "enlist_discharge", "入伍退伍"
    HOLIDAY = "holiday", "重大节日"
    ILLNESS = "illness", "重病住院"
    DISASTER = "disaster", "家庭受灾"
    DEATH = "death", "病故去世"
    HARDSHIP = "hardship", "生活困难"
    RIGHTS = "rights", "权益维护"
    EMPLOYMENT = "employment", "就业创业受阻"
    EMOTIONAL = "emotional", "心理情感受挫"


class CaseLevel(models.IntegerChoices):
    URGENT = 1, "紧急"
    IMPORTANT = 2, "重要"
    ROUTINE = 3, "一般"


class CasePlan(models.Model):
    """What a life event of a type and level calls for, like a dispatch run card: the services, the skills
    wanted in the case team, how soon someone must make contact, how many visits and by when the case should
    be closed."""

    event_type = models.CharField("事件类型", max_length=20, choices=LifeEventType.choices)
    level = models.PositiveSmallIntegerField("等级", choices=CaseLevel.choices)
    services = models.JSONField("服务内容", default=list)
    skill_codes = models.JSONField("所需技能", default=list, blank=True)
    response_hours = models.PositiveIntegerField("首次联系时限（小时）")
    visits_required = models.PositiveSmallIntegerField("探访次数")
    duration_days = models.PositiveIntegerField("办结时限（天）")
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["event_type", "level"]
        constraints = [
            models.UniqueConstraint(fields=["event_type", "level"], name="care_caseplan_unique_type_level"),
            models.CheckConstraint(
                condition=Q(response_hours__gte=1), name="care_caseplan_response_positive"
            ),
            models.CheckConstraint(condition=Q(duration_days__gte=1), name="care_caseplan_duration_positive"),
        ]
        verbose_name = "帮扶预案"
        verbose_name_plural = "帮扶预案"

    def __str__(self) -> str:
        return f"{self.get_event_type_display()}·{self.get_level_display()}"


class LifeEvent(RegionScopedModel):
    """Something that happened in a recipient's life and calls for care; it opens one case."""

    recipient = models.ForeignKey("care.Recipient", on_delete=models.PROTECT, related_name="life_events")
    event_type = models.CharField("事件类型", max_length=20, choices=LifeEventType.choices)
    level = models.PositiveSmallIntegerField("等级", choices=CaseLevel.choices)
    occurred_on = models.DateField("发生日期")
    description = EncryptedTextField("情况说明", blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    region_actions = {Action.VIEW: Action.VIEW_PEOPLE, Action.CHANGE: Action.CHANGE_PEOPLE}

    class Meta:
        ordering = ["-occurred_on", "-id"]
        verbose_name = "生活事件"
        verbose_name_plural = "生活事件"

    def __str__(self) -> str:
        return f"{self.get_event_type_display()} {self.occurred_on}"


MAX_TEAM_CASES = 5000  # cases one person works on as a team member (far more than anyone has)


class CaseStatus(models.TextChoices):
    OPEN = "open", "待联系"
    ACTIVE = "active", "帮扶中"
    CLOSED = "closed", "已办结"


OPEN_STATUSES = (CaseStatus.OPEN, CaseStatus.ACTIVE)


class CaseOutcome(models.TextChoices):
    RESOLVED = "resolved", "问题已解决"
    IMPROVED = "improved", "情况改善，转入常态关爱"
    REFERRED = "referred", "已转介其他部门办理"
    DECLINED = "declined", "本人不再需要"
    DECEASED = "deceased", "服务对象去世"
    OTHER = "other", "其他"


class Case(RegionScopedModel):
    """Care for one recipient after one life event: an owner (station staff or a social worker), a case
    team (社工+志愿者), tasks with due dates, a timeline of visits and notes, referrals, an outcome.

    `first_contact_due` and `deadline` come from the plan when the case opens; a case still open past
    either is overdue (listed for its station, counted up the tree). `region_code` is the recipient's.
    """

    number = models.CharField("案件编号", max_length=20)
    recipient = models.ForeignKey("care.Recipient", on_delete=models.PROTECT, related_name="cases")
    event = models.OneToOneField(LifeEvent, on_delete=models.PROTECT, related_name="case")
    plan = models.ForeignKey(CasePlan, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField("等级", choices=CaseLevel.choices)
    status = models.CharField("状态", max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="care_cases", verbose_name="负责人"
    )
    opened_at = models.DateTimeField("立案时间")
    first_contact_due = models.DateTimeField("首次联系时限")
    first_contact_at = models.DateTimeField("首次联系时间", null=True, blank=True)
    deadline = models.DateTimeField("办结时限")
    visits_required = models.PositiveSmallIntegerField("应探访次数")
    visits_done = models.PositiveSmallIntegerField("已探访次数", default=0)
    closed_at = models.DateTimeField("办结时间", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField("办结结果", max_length=12, choices=CaseOutcome.choices, blank=True)
    outcome_note = models.CharField("办结说明", max_length=500, blank=True)
    region_code = models.CharField("行政区划代码", max_length=12)

    region_actions = {Action.VIEW: Action.VIEW_PEOPLE, Action.CHANGE: Action.CHANGE_PEOPLE}

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(fields=["number"], name="care_case_unique_number"),
            models.CheckConstraint(
                condition=Q(status="closed", closed_at__isnull=False, outcome__gt="")
                | (~Q(status="closed") & Q(closed_at__isnull=True)),
                name="care_case_closed_has_outcome",
            ),
        ]
        indexes = [
            # The overdue list and its roll-up: open cases of a subtree by deadline, from the index alone.
            models.Index(
                fields=["region_code", "deadline", "first_contact_due"],
                name="care_case_open_deadline",
                condition=Q(status__in=["open", "active"]),
            ),
            # A province's list: the open cases in deadline order, read until a page is full.
            models.Index(
                fields=["deadline", "id"],
                name="care_case_open_by_deadline",
                condition=Q(status__in=["open", "active"]),
            ),
            models.Index(fields=["status", "region_code", "opened_at"], name="care_case_status_region"),
            models.Index(fields=["recipient", "status"], name="care_case_recipient"),
            models.Index(fields=["owner", "status"], name="care_case_owner"),
        ]
        verbose_name = "帮扶案件"
        verbose_name_plural = "帮扶案件"

    def __str__(self) -> str:
        return self.number

    @classmethod
    def owner_q(cls, user: Any, action: str) -> Q | None:
        """The owner and the case team reach their cases without a region grant (a social worker may own
        a case in a street where they hold only a viewing role). Volunteers of the team see the case;
        only the owner and the team's staff and social workers work on it."""
        if action == Action.VIEW:
            team = CaseMember.objects.filter(Q(user_id=user.pk) | Q(volunteer__user_id=user.pk))
        elif action == Action.CHANGE:
            team = CaseMember.objects.filter(user_id=user.pk)
        else:
            return None
        # The team's cases as a list of ids, not a subquery: a subquery in this OR keeps PostgreSQL from
        # combining the branches' indexes (region range, owner, primary key), so every open case was read.
        return Q(owner_id=user.pk) | Q(pk__in=list(team.values_list("case_id", flat=True)[:MAX_TEAM_CASES]))

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class CaseMemberRole(models.TextChoices):
    SOCIAL_WORKER = "social_worker", "社工"
    VOLUNTEER = "volunteer", "志愿者"
    STAFF = "staff", "工作人员"


class CaseMember(models.Model):
    """A member of a case team: a user (social worker, staff) or a volunteer."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="members")
    role = models.CharField("角色", max_length=16, choices=CaseMemberRole.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    volunteer = models.ForeignKey(
        "registry.Volunteer", null=True, blank=True, on_delete=models.PROTECT, related_name="care_cases"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(user__isnull=False) | Q(volunteer__isnull=False), name="care_casemember_someone"
            ),
            models.UniqueConstraint(fields=["case", "user"], name="care_casemember_unique_user"),
            models.UniqueConstraint(fields=["case", "volunteer"], name="care_casemember_unique_volunteer"),
        ]
        verbose_name = "案件团队成员"
        verbose_name_plural = "案件团队成员"

    def __str__(self) -> str:
        return f"{self.case_id}:{self.user_id or self.volunteer_id}"


class TaskStatus(models.TextChoices):
    OPEN = "open", "待办"
    DONE = "done", "已完成"
    CANCELLED = "cancelled", "已取消"


class CaseTask(TimeStampedModel):
    """Something to be done for a case by a due time; `region_code` copies the case's, for the overdue
    list."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="tasks")
    title = models.CharField("事项", max_length=200)
    due_at = models.DateTimeField("完成时限")
    status = models.CharField("状态", max_length=10, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    assignee = models.ForeignKey(
        "registry.Volunteer", null=True, blank=True, on_delete=models.PROTECT, related_name="care_tasks"
    )
    done_at = models.DateTimeField("完成时间", null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    region_code = models.CharField(max_length=12)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(
                fields=["region_code", "due_at"], name="care_task_open_due", condition=Q(status="open")
            ),
        ]
        verbose_name = "案件任务"
        verbose_name_plural = "案件任务"

    def __str__(self) -> str:
        return self.title


class EntryKind(models.TextChoices):
    OPENED = "opened", "立案"
    CONTACT = "contact", "首次联系"
    VISIT = "visit", "探访"
    NOTE = "note", "记录"
    TASK = "task", "任务"
    REFERRAL = "referral", "转介"
    TEAM = "team", "团队"
    CLOSED = "closed", "办结"


class CaseEntry(models.Model):
    """One line of a case's timeline. The text may hold health or family details: encrypted."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="entries")
    kind = models.CharField(max_length=10, choices=EntryKind.choices)
    at = models.DateTimeField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = EncryptedTextField(blank=True)
    visit = models.ForeignKey("care.Visit", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at", "id"]
        verbose_name = "案件记录"
        verbose_name_plural = "案件记录"

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind}"


class Department(models.TextChoices):
    CIVIL_AFFAIRS = "civil_affairs", "民政部门"
    HUMAN_RESOURCES = "human_resources", "人力资源和社会保障部门"
    HEALTH = "health", "卫生健康部门"
    MEDICAL_INSURANCE = "medical_insurance", "医疗保障部门"
    HOUSING = "housing", "住房和城乡建设部门"
    EDUCATION = "education", "教育部门"
    JUSTICE = "justice", "司法行政部门（法律援助）"
    EMERGENCY = "emergency", "应急管理部门"
    UNION = "union", "工会、共青团、妇联"
    VETERANS = "veterans", "上级退役军人事务部门"


class Referral(models.Model):
    """A case handed to another department for what the station cannot do, with its answer."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="referrals")
    department = models.CharField("转介部门", max_length=20, choices=Department.choices)
    reason = models.CharField("转介事由", max_length=500)
    referred_at = models.DateTimeField("转介时间")
    referred_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    response = models.CharField("办理结果", max_length=500, blank=True)
    responded_at = models.DateTimeField("答复时间", null=True, blank=True)

    class Meta:
        ordering = ["referred_at", "id"]
        verbose_name = "转介"
        verbose_name_plural = "转介"

    def __str__(self) -> str:
        return f"{self.case_id}→{self.department}"
