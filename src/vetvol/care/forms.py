"""Forms of the care pages: they only parse types; the actions validate and say what is wrong."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from vetvol.care.models import CaseLevel, CaseOutcome, Department, LifeEventType, RecipientCategory, VisitMode


class RecipientForm(forms.Form):
    name = forms.CharField(label="姓名", max_length=50)
    id_number = forms.CharField(label="身份证号码", max_length=18)
    category = forms.ChoiceField(label="类别", choices=RecipientCategory.choices)
    region = forms.CharField(label="所在社区/村（区划代码）", max_length=12)
    phone = forms.CharField(label="联系电话", max_length=20, required=False)
    address = forms.CharField(label="家庭住址", max_length=200, required=False)
    household_size = forms.IntegerField(
        label="家庭人口", min_value=1, max_value=30, initial=1, required=False
    )
    lives_alone = forms.BooleanField(label="独居", required=False)
    contact_name = forms.CharField(label="紧急联系人", max_length=50, required=False)
    contact_phone = forms.CharField(label="紧急联系人电话", max_length=20, required=False)
    needs = forms.CharField(label="需求（用顿号分隔）", max_length=200, required=False)
    health_notes = forms.CharField(label="健康状况", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    hardship_notes = forms.CharField(
        label="困难情况", widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    family_notes = forms.CharField(label="家庭情况", widget=forms.Textarea(attrs={"rows": 2}), required=False)
    service_consent = forms.BooleanField(label="本人（或监护人）同意接受服务并登记信息", required=False)


class LifeEventForm(forms.Form):
    event_type = forms.ChoiceField(label="事件类型", choices=LifeEventType.choices)
    level = forms.TypedChoiceField(label="等级", choices=CaseLevel.choices, coerce=int, initial=2)
    occurred_on = forms.DateField(label="发生日期", widget=forms.DateInput(attrs={"type": "date"}))
    description = forms.CharField(label="情况说明", widget=forms.Textarea(attrs={"rows": 3}), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["occurred_on"].initial = timezone.localdate()


class NoteForm(forms.Form):
    text = forms.CharField(label="记录", widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class VisitForm(forms.Form):
    visited_on = forms.DateField(label="探访日期", widget=forms.DateInput(attrs={"type": "date"}))
    mode = forms.ChoiceField(label="方式", choices=VisitMode.choices, initial=VisitMode.HOME)
    minutes = forms.IntegerField(label="服务时长（分钟）", min_value=0, max_value=720, initial=60)
    summary = forms.CharField(label="做了什么", widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["visited_on"].initial = timezone.localdate()


class ReferralForm(forms.Form):
    department = forms.ChoiceField(label="转介部门", choices=Department.choices)
    reason = forms.CharField(label="转介事由", widget=forms.Textarea(attrs={"rows": 2}), max_length=500)


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(label="办结结果", choices=CaseOutcome.choices)
    note = forms.CharField(label="办结说明", max_length=500, required=False)
