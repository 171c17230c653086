"""Activity forms: shape input only; rules live in actions."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from vetvol.activities.models import Approval, FencePolicy, ServiceDomain
from vetvol.registry.models import CertificateType, Skill

DT = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ProjectForm(forms.Form):
    name = forms.CharField(label=_("项目名称"), max_length=100)
    domain = forms.ChoiceField(label=_("服务领域"), choices=ServiceDomain.choices)
    description = forms.CharField(
        label=_("项目介绍"), max_length=4000, widget=forms.Textarea(attrs={"rows": 4})
    )
    risk_statement = forms.CharField(
        label=_("风险提示"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("如实告知参与者可能面临的风险，报名时会展示给志愿者"),
    )
    insurance_required = forms.BooleanField(label=_("有风险，须购买意外保险后才能签到"), required=False)
    brand = forms.CharField(label=_("品牌"), max_length=30, required=False)


class ActivityForm(forms.Form):
    title = forms.CharField(label=_("活动名称"), max_length=100)
    starts_at = forms.DateTimeField(label=_("开始时间"), widget=DT)
    ends_at = forms.DateTimeField(label=_("结束时间"), widget=DT)
    place_name = forms.CharField(label=_("地点"), max_length=100)
    address = forms.CharField(label=_("详细地址"), max_length=200, required=False)
    lat = forms.FloatField(label=_("纬度"), required=False, min_value=-90, max_value=90)
    lng = forms.FloatField(label=_("经度"), required=False, min_value=-180, max_value=180)
    geofence_m = forms.IntegerField(label=_("签到范围（米）"), initial=300, min_value=20, max_value=5000)
    fence_policy = forms.ChoiceField(label=_("范围外签到"), choices=FencePolicy.choices)
    capacity = forms.IntegerField(label=_("招募人数"), min_value=1, max_value=100000)
    signup_opens_at = forms.DateTimeField(label=_("报名开始"), widget=DT)
    signup_closes_at = forms.DateTimeField(label=_("报名截止"), widget=DT)
    cancel_cutoff_hours = forms.IntegerField(
        label=_("开始前多少小时停止在线取消"), initial=2, min_value=0, max_value=168
    )
    approval = forms.ChoiceField(label=_("报名审核"), choices=Approval.choices)
    team_only = forms.BooleanField(label=_("仅限主办队伍队员"), required=False)
    min_age = forms.IntegerField(label=_("最小年龄"), required=False, min_value=0, max_value=120)
    max_age = forms.IntegerField(label=_("最大年龄"), required=False, min_value=0, max_value=120)
    skills = forms.ModelMultipleChoiceField(
        label=_("所需技能"),
        queryset=Skill.objects.filter(is_active=True),
        required=False,
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
    )
    certificates = forms.ModelMultipleChoiceField(
        label=_("所需证书（活动当天有效）"),
        queryset=CertificateType.objects.filter(is_active=True),
        required=False,
        to_field_name="code",
        widget=forms.CheckboxSelectMultiple,
    )
