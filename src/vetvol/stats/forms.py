from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class PopulationForm(forms.Form):
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    veterans = forms.IntegerField(label=_("退役军人人数"), min_value=0, max_value=10_000_000)
