"""Dispatch forms: they shape input; the rules live in actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vetvol.core.scoping import Action
from vetvol.dispatch.models import IncidentType
from vetvol.regions.models import Region


class IncidentForm(forms.Form):
    region = forms.ModelChoiceField(label=_("所在区县"), queryset=Region.objects.none(), to_field_name="code")
    type = forms.ChoiceField(label=_("事件类型"), choices=IncidentType.choices)
    level = forms.ChoiceField(
        label=_("响应等级"),
        choices=[("1", _("一级（最高）")), ("2", _("二级")), ("3", _("三级")), ("4", _("四级"))],
        initial="2",
    )
    title = forms.CharField(label=_("标题"), max_length=120)
    address = forms.CharField(label=_("地点"), max_length=200, required=False)
    lat = forms.FloatField(
        label=_("纬度"), required=False, min_value=-90, max_value=90, help_text=_("不填则取所在区县中心")
    )
    lng = forms.FloatField(label=_("经度"), required=False, min_value=-180, max_value=180)
    reporter_name = forms.CharField(label=_("报告人"), max_length=50, required=False)
    reporter_phone = forms.CharField(label=_("报告人电话"), max_length=30, required=False)
    risky = forms.BooleanField(label=_("高风险（仅邀请当日在保志愿者）"), required=False)

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["region"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            Region.objects.restrict(user, Action.CHANGE).filter(level__in=["city", "county"]).order_by("code")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        region = data.get("region")
        if (data.get("lat") is None) != (data.get("lng") is None):
            self.add_error("lng", _("经纬度须同时填写"))
        elif data.get("lat") is None and region is not None:
            if region.lat is None:
                self.add_error("lat", _("该地区没有中心坐标，请填写经纬度"))
            else:
                data["lat"], data["lng"] = region.lat, region.lng
        return data


class CloseForm(forms.Form):
    people_rescued = forms.IntegerField(label=_("救出人数"), min_value=0, initial=0)
    bodies_recovered = forms.IntegerField(label=_("打捞遗体"), min_value=0, initial=0)
    people_served = forms.IntegerField(label=_("服务人次"), min_value=0, initial=0)
    summary = forms.CharField(label=_("行动总结"), widget=forms.Textarea(attrs={"rows": 4}), max_length=5000)


class TeamInviteForm(forms.Form):
    need = forms.TypedChoiceField(label=_("岗位"), coerce=int)
    team = forms.TypedChoiceField(label=_("队伍"), coerce=int)

    def __init__(
        self, needs: list[tuple[int, str]], teams: list[tuple[int, str]], *args: Any, **kw: Any
    ) -> None:
        super().__init__(*args, **kw)
        self.fields["need"].choices = needs  # type: ignore[attr-defined]
        self.fields["team"].choices = teams  # type: ignore[attr-defined]


class RunCardForm(forms.Form):
    region = forms.ModelChoiceField(label=_("适用地区"), queryset=Region.objects.none(), to_field_name="code")
    incident_type = forms.ChoiceField(label=_("事件类型"), choices=IncidentType.choices)
    level = forms.TypedChoiceField(
        label=_("响应等级"), choices=[(1, "1"), (2, "2"), (3, "3"), (4, "4")], coerce=int
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["region"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = (
            Region.objects.restrict(user, Action.MANAGE_USERS)
            .filter(level__in=["province", "city", "county"])
            .order_by("code")
        )


class RoleRowForm(forms.Form):
    name = forms.CharField(label=_("岗位"), max_length=40, required=False)
    skill_code = forms.ChoiceField(label=_("技能"), required=False)
    certificate_code = forms.ChoiceField(label=_("证书"), required=False)
    count = forms.IntegerField(label=_("人数"), min_value=1, max_value=500, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from vetvol.registry.models import CertificateType, Skill

        super().__init__(*args, **kwargs)
        self.fields["skill_code"].choices = [("", "—"), *Skill.objects.values_list("code", "name")]  # type: ignore[attr-defined]
        self.fields["certificate_code"].choices = [  # type: ignore[attr-defined]
            ("", "—"),
            *CertificateType.objects.values_list("code", "name"),
        ]


RoleRows = forms.formset_factory(RoleRowForm, extra=0, min_num=6, max_num=12)
