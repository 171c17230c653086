from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _


class PreferenceForm(forms.Form):
    push = forms.BooleanField(label=_("手机推送"), required=False)
    sms = forms.BooleanField(label=_("短信"), required=False)
    email = forms.BooleanField(label=_("电子邮件"), required=False)
    quiet_start = forms.TimeField(
        label=_("免打扰开始"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    quiet_end = forms.TimeField(
        label=_("免打扰结束"), required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    phone = forms.CharField(
        label=_("接收短信的手机号码"),
        required=False,
        max_length=30,
        help_text=_("志愿者默认使用登记的手机号码；在此填写可改用其他号码。"),
    )
    language = forms.ChoiceField(label=_("通知语言"), choices=settings.LANGUAGES)
