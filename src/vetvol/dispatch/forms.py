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
