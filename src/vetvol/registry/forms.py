"""Registry forms. They only shape input; the rules live in validation.py and actions."""

from __future__ import annotations

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from vetvol.registry.models import ServiceBranch, Skill, TeamSpecialty
from vetvol.registry.models.teams import CivilStatus, MemberRole
from vetvol.registry.models.volunteers import VolunteerStatus

# The weekly availability grid (bit d*3+p): the days and periods of WEEKDAYS and PERIODS in the model.
_DAYS = [_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日")]
_PERIODS = [_("上午"), _("下午"), _("晚上")]


class VolunteerForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50)
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    phone = forms.CharField(
        label=_("手机号码"),
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    home_region = forms.CharField(label=_("居住街道（乡镇）"), max_length=12, widget=forms.HiddenInput)
    address = forms.CharField(
        label=_("详细地址"), max_length=200, required=False, help_text=_("加密保存，仅有权限的工作人员可见")
    )
    is_veteran = forms.BooleanField(label=_("我是退役军人"), required=False, initial=True)
    service_branch = forms.ChoiceField(
        label=_("服役军种"), choices=[("", "—"), *ServiceBranch.choices], required=False
    )
    enlistment_year = forms.IntegerField(
        label=_("入伍年份"), required=False, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    discharge_year = forms.IntegerField(
        label=_("退役年份"), required=False, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    is_retired_cadre = forms.BooleanField(label=_("军休干部"), required=False)
    is_party_member = forms.BooleanField(label=_("中共党员"), required=False)
    skills = forms.ModelMultipleChoiceField(
        label=_("技能特长"),
        queryset=Skill.objects.filter(is_active=True),
        required=False,
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
    )
    availability = forms.MultipleChoiceField(
        label=_("每周可服务时段"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[
            (str(d * 3 + p), format_lazy(_("{day}{period}"), day=_DAYS[d], period=_PERIODS[p]))
            for d in range(7)
            for p in range(3)
        ],
    )
    guardian_name = forms.CharField(label=_("监护人姓名（未满 18 周岁填写）"), max_length=50, required=False)
    publicity_consent = forms.BooleanField(
        label=_("同意在信息公开页面展示我的姓名和服务信息"), required=False
    )
    location_consent = forms.BooleanField(
        label=_("同意执行任务时共享我的实时位置（仅任务期间）"), required=False
    )

    def raw(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("skills", None)
        data.pop("availability", None)
        data.pop("publicity_consent", None)
        data.pop("location_consent", None)
        return data

    def availability_mask(self) -> int:
        return sum(1 << int(bit) for bit in self.cleaned_data.get("availability") or [])

    def skill_levels(self) -> dict[str, int]:
        return {skill.code: 2 for skill in self.cleaned_data.get("skills") or []}


class SelfRegisterForm(VolunteerForm):
    password = forms.CharField(
        label=_("设置登录密码"),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少 10 位，包含字母、数字、符号中的至少三类"),
    )
    sensitive_consent = forms.BooleanField(
        label=_(
            "我已阅读并同意《志愿者个人信息处理规则》，同意处理我的身份证号码等敏感个人信息用于志愿者实名注册"
        ),
        error_messages={"required": _("实名注册须同意处理身份证号码等敏感个人信息")},
    )

    def raw(self) -> dict:
        data = super().raw()
        data.pop("password", None)
        data.pop("sensitive_consent", None)
        return data


class StatusForm(forms.Form):
    status = forms.ChoiceField(label=_("变更为"), choices=VolunteerStatus.choices)
    reason = forms.CharField(label=_("原因"), max_length=200, required=False)


class TeamForm(forms.Form):
    name = forms.CharField(label=_("队伍名称"), max_length=100)
    brand = forms.CharField(
        label=_("品牌"), max_length=30, required=False, help_text=_("如 红星、红棉老兵、南狮、战旗")
    )
    specialty = forms.ChoiceField(label=_("类型"), choices=TeamSpecialty.choices)
    region = forms.CharField(label=_("所属区划代码"), max_length=12)
    founded_on = forms.DateField(
        label=_("成立日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    civil_status = forms.ChoiceField(label=_("民政登记状态"), choices=CivilStatus.choices)
    civil_number = forms.CharField(label=_("登记（备案）编号"), max_length=50, required=False)
    civil_date = forms.DateField(
        label=_("登记（备案）日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    description = forms.CharField(
        label=_("简介"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class MemberForm(forms.Form):
    volunteer_number = forms.CharField(label=_("志愿者编号"), max_length=20)
    role = forms.ChoiceField(label=_("角色"), choices=MemberRole.choices, initial=MemberRole.MEMBER)


class SquadForm(forms.Form):
    size = forms.IntegerField(label=_("每班人数"), min_value=2, max_value=100, initial=18)
