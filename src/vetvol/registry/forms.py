"""Registry forms. They only shape input; the rules live in validation.py and actions."""

from __future__ import annotations

from django import forms

from vetvol.registry.models import ServiceBranch, Skill, TeamSpecialty
from vetvol.registry.models.teams import CivilStatus, MemberRole
from vetvol.registry.models.volunteers import PERIODS, WEEKDAYS, VolunteerStatus


class VolunteerForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50)
    id_number = forms.CharField(
        label="身份证号码",
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}),
    )
    phone = forms.CharField(
        label="手机号码",
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    home_region = forms.CharField(label="居住街道（乡镇）", max_length=12, widget=forms.HiddenInput)
    address = forms.CharField(
        label="详细地址", max_length=200, required=False, help_text="加密保存，仅有权限的工作人员可见"
    )
    is_veteran = forms.BooleanField(label="我是退役军人", required=False, initial=True)
    service_branch = forms.ChoiceField(
        label="服役军种", choices=[("", "—"), *ServiceBranch.choices], required=False
    )
    enlistment_year = forms.IntegerField(
        label="入伍年份", required=False, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    discharge_year = forms.IntegerField(
        label="退役年份", required=False, widget=forms.NumberInput(attrs={"inputmode": "numeric"})
    )
    is_retired_cadre = forms.BooleanField(label="军休干部", required=False)
    is_party_member = forms.BooleanField(label="中共党员", required=False)
    skills = forms.ModelMultipleChoiceField(
        label="技能特长",
        queryset=Skill.objects.filter(is_active=True),
        required=False,
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
    )
    availability = forms.MultipleChoiceField(
        label="每周可服务时段",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(str(d * 3 + p), f"{WEEKDAYS[d]}{PERIODS[p]}") for d in range(7) for p in range(3)],
    )
    guardian_name = forms.CharField(label="监护人姓名（未满 18 周岁填写）", max_length=50, required=False)
    publicity_consent = forms.BooleanField(label="同意在信息公开页面展示我的姓名和服务信息", required=False)
    location_consent = forms.BooleanField(
        label="同意执行任务时共享我的实时位置（仅任务期间）", required=False
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
        label="设置登录密码",
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="至少 10 位，包含字母、数字、符号中的至少三类",
    )
    sensitive_consent = forms.BooleanField(
        label="我已阅读并同意《志愿者个人信息处理规则》，同意处理我的身份证号码等敏感个人信息用于志愿者实名注册",
        error_messages={"required": "实名注册须同意处理身份证号码等敏感个人信息"},
    )

    def raw(self) -> dict:
        data = super().raw()
        data.pop("password", None)
        data.pop("sensitive_consent", None)
        return data


class StatusForm(forms.Form):
    status = forms.ChoiceField(label="变更为", choices=VolunteerStatus.choices)
    reason = forms.CharField(label="原因", max_length=200, required=False)


class TeamForm(forms.Form):
    name = forms.CharField(label="队伍名称", max_length=100)
    brand = forms.CharField(
        label="品牌", max_length=30, required=False, help_text="如 红星、红棉老兵、南狮、战旗"
    )
    specialty = forms.ChoiceField(label="类型", choices=TeamSpecialty.choices)
    region = forms.CharField(label="所属区划代码", max_length=12)
    founded_on = forms.DateField(
        label="成立日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    civil_status = forms.ChoiceField(label="民政登记状态", choices=CivilStatus.choices)
    civil_number = forms.CharField(label="登记（备案）编号", max_length=50, required=False)
    civil_date = forms.DateField(
        label="登记（备案）日期", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    description = forms.CharField(
        label="简介", max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )


class MemberForm(forms.Form):
    volunteer_number = forms.CharField(label="志愿者编号", max_length=20)
    role = forms.ChoiceField(label="角色", choices=MemberRole.choices, initial=MemberRole.MEMBER)


class SquadForm(forms.Form):
    size = forms.IntegerField(label="每班人数", min_value=2, max_value=100, initial=18)
