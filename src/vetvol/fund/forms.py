"""Forms of the fund pages: they only parse types; the actions validate and say what is wrong."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vetvol.fund.models import DonationForm, DonorKind, Purpose

SPENDING_PURPOSES = [(v, label) for v, label in Purpose.choices if v != Purpose.GENERAL]


class DonorForm(forms.Form):
    kind = forms.ChoiceField(label=_("捐赠方类型"), choices=DonorKind.choices)
    name = forms.CharField(label=_("名称"), max_length=100)
    region = forms.CharField(label=_("登记地（区划代码）"), max_length=12)
    phone = forms.CharField(label=_("联系电话"), max_length=20, required=False)
    anonymous = forms.BooleanField(label=_("匿名捐赠（公开时不显示名称）"), required=False)
    publish_consent = forms.BooleanField(label=_("同意公开名称和捐赠金额"), required=False)
    plaque = forms.BooleanField(label=_("设立纪念牌"), required=False)
    plaque_text = forms.CharField(label=_("纪念牌文字"), max_length=200, required=False)


class ConsentForm(forms.Form):
    publish_consent = forms.BooleanField(label=_("同意公开名称和捐赠金额"), required=False)
    plaque = forms.BooleanField(label=_("设立纪念牌"), required=False)
    plaque_text = forms.CharField(label=_("纪念牌文字"), max_length=200, required=False)


class DonationEntryForm(forms.Form):
    donor = forms.TypedChoiceField(label=_("捐赠方"), coerce=int, choices=())
    form = forms.ChoiceField(label=_("形式"), choices=DonationForm.choices)
    amount = forms.CharField(label=_("金额（元）"), max_length=20)
    purpose = forms.ChoiceField(label=_("限定用途"), choices=Purpose.choices)
    region = forms.CharField(label=_("限定地区（44 全省，或地市代码）"), max_length=12, initial="44")
    received_on = forms.DateField(label=_("到账日期"), widget=forms.DateInput(attrs={"type": "date"}))
    goods_description = forms.CharField(label=_("物资说明"), max_length=200, required=False)
    goods_receipt = forms.CharField(label=_("物资验收单号"), max_length=50, required=False)
    note = forms.CharField(label=_("备注"), max_length=200, required=False)

    def __init__(self, *args: object, donors: list[tuple[int, str]] = (), **kwargs: object) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["donor"].choices = donors  # type: ignore[attr-defined]
        self.fields["received_on"].initial = timezone.localdate()


class DisbursementForm(forms.Form):
    region = forms.CharField(label=_("使用地区（区划代码）"), max_length=12)
    purpose = forms.ChoiceField(label=_("用途"), choices=SPENDING_PURPOSES)
    account = forms.TypedChoiceField(label=_("资金来源"), coerce=int, choices=())
    amount = forms.CharField(label=_("金额（元）"), max_length=20)
    title = forms.CharField(label=_("项目名称"), max_length=100)
    recipient_org = forms.CharField(label=_("收款单位"), max_length=100)
    description = forms.CharField(
        label=_("用途说明"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )

    def __init__(self, *args: object, accounts: list[tuple[int, str]] = (), **kwargs: object) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.fields["account"].choices = accounts  # type: ignore[attr-defined]


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("批准")), ("reject", _("驳回"))])
    note = forms.CharField(label=_("审批意见"), max_length=500, required=False)


class PaymentForm(forms.Form):
    reference = forms.CharField(label=_("支付凭证号"), max_length=60)


class ReportForm(forms.Form):
    report = forms.CharField(label=_("使用情况"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200)
