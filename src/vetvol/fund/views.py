"""The special fund's staff pages: balances, donors, donations with receipts, disbursements through their
states, the ledger, and the auditor's exports. Thin: parse, call a query or an action, render. Every page
needs a `view_fund` grant over what it shows; anyone else gets the same 404 as for a missing page."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vetvol.core import audit
from vetvol.core.exports import Export, response
from vetvol.core.money import format_fen
from vetvol.core.pages import error_text, form_errors
from vetvol.core.scoping import Action, allowed_prefixes
from vetvol.fund import actions, queries
from vetvol.fund.forms import (
    ConsentForm,
    DecisionForm,
    DisbursementForm,
    DonationEntryForm,
    DonorForm,
    PaymentForm,
    ReasonForm,
    ReportForm,
)
from vetvol.fund.models import Disbursement, DisbursementStatus, Donation, Donor

MAX_FILES = 10


def _fund_user(request: HttpRequest) -> Any:
    return queries.fund_user(request.user)


def _may_change(request: HttpRequest) -> bool:
    prefixes = allowed_prefixes(request.user, Action.CHANGE_FUND)
    return prefixes is None or bool(prefixes)


def _uploads(request: HttpRequest, field: str = "evidence") -> list[actions.Upload]:
    files = request.FILES.getlist(field)
    if len(files) > MAX_FILES:
        raise ValidationError({"evidence": [_("最多上传 %(n)d 个文件") % {"n": MAX_FILES}]})
    out = []
    for f in files:
        if f.size and f.size > actions.EVIDENCE_MAX_BYTES:
            raise ValidationError({"evidence": [_("%(name)s：文件超过 10 MB") % {"name": f.name}]})
        out.append(actions.Upload(f.name or "evidence", f.read(actions.EVIDENCE_MAX_BYTES + 1)))
    return out


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = _fund_user(request)
    context = {
        "balances": queries.fund_balances(user),
        "accounts": list(queries.accounts(user).exclude(kind="fund")),
        "awaiting": queries.awaiting_decision(user),
        "recent": list(queries.transactions(user)[:15]),
        "can_change": _may_change(request),
    }
    return render(request, "fund/index.html", context)


# Donors -------------------------------------------------------------------------------------------------


@login_required
def donor_list(request: HttpRequest) -> HttpResponse:
    user = _fund_user(request)
    q = request.GET.get("q", "").strip()[:50]
    page = Paginator(queries.donors(user, q), 50).get_page(request.GET.get("page"))
    return render(request, "fund/donor_list.html", {"page": page, "q": q, "can_change": _may_change(request)})


@login_required
def donor_new(request: HttpRequest) -> HttpResponse:
    _fund_user(request)
    form = DonorForm(request.POST or None, initial={"region": "44"})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            donor = actions.create_donor(
                request.user,
                kind=data["kind"],
                name=data["name"],
                region_code=data["region"],
                phone=data["phone"],
                anonymous=data["anonymous"],
                publish_consent=data["publish_consent"],
                plaque=data["plaque"],
                plaque_text=data["plaque_text"],
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已登记捐赠方 %(name)s") % {"name": donor.name})
            return redirect("fund:donor", pk=donor.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "fund/form.html", {"form": form, "title": _("登记捐赠方")}, status=status)


@login_required
def donor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    donor = queries.get_donor_for_user(_fund_user(request), pk)
    form = ConsentForm(
        request.POST or None,
        initial={
            "publish_consent": donor.publish_consent,
            "plaque": donor.plaque,
            "plaque_text": donor.plaque_text,
        },
    )
    status = 200
    if request.method == "POST":
        donor = queries.get_donor_for_user(request.user, pk, Action.CHANGE)
        if form.is_valid():
            try:
                actions.set_donor_consent(request.user, donor, **form.cleaned_data)
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, _("已更新公开意愿"))
                return redirect("fund:donor", pk=donor.pk)
        status = 400
    context = {
        "donor": donor,
        "form": form,
        "donations": donor.donations.select_related("transaction__reversed_by").order_by("-received_on")[
            :100
        ],
        "can_change": Donor.objects.restrict(request.user, Action.CHANGE).filter(pk=donor.pk).exists(),
    }
    return render(request, "fund/donor_detail.html", context, status=status)


# Donations ----------------------------------------------------------------------------------------------


@login_required
def donation_list(request: HttpRequest) -> HttpResponse:
    user = _fund_user(request)
    region = request.GET.get("region", "")
    if region and not region.isdigit():
        raise Http404
    page = Paginator(queries.donations(user, region), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "fund/donation_list.html",
        {"page": page, "region": region, "can_change": _may_change(request)},
    )


@login_required
def donation_new(request: HttpRequest) -> HttpResponse:
    user = _fund_user(request)
    donors = [(d.pk, d.name) for d in Donor.objects.restrict(user, Action.CHANGE).order_by("name")[:500]]
    form = DonationEntryForm(request.POST or None, donors=donors, initial={"donor": request.GET.get("donor")})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        donor = queries.get_donor_for_user(user, data["donor"], Action.CHANGE)
        try:
            donation = actions.record_donation(
                user,
                donor,
                form=data["form"],
                amount=data["amount"],
                purpose=data["purpose"],
                region_code=data["region"],
                received_on=data["received_on"],
                goods_description=data["goods_description"],
                goods_receipt=data["goods_receipt"],
                note=data["note"],
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已入账，收据编号 %(number)s") % {"number": donation.number})
            return redirect("fund:donation", pk=donation.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "fund/form.html", {"form": form, "title": _("登记捐赠")}, status=status)


@login_required
def donation_detail(request: HttpRequest, pk: int) -> HttpResponse:
    donation = queries.get_donation_for_user(_fund_user(request), pk)
    can_change = Donation.objects.restrict(request.user, Action.CHANGE).filter(pk=donation.pk).exists()
    legs = donation.transaction.legs.select_related("account").order_by("id")
    context = {"d": donation, "legs": legs, "can_change": can_change, "reverse_form": ReasonForm()}
    return render(request, "fund/donation_detail.html", context)


@login_required
@require_POST
def donation_reverse(request: HttpRequest, pk: int) -> HttpResponse:
    donation = queries.get_donation_for_user(_fund_user(request), pk, Action.CHANGE)
    form = ReasonForm(request.POST)
    try:
        if not form.is_valid():
            raise ValidationError({"reason": [_("请填写冲正原因")]})
        actions.reverse_donation(request.user, donation, form.cleaned_data["reason"])
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    else:
        messages.success(request, _("已冲正，收据作废"))
    return redirect("fund:donation", pk=donation.pk)


@login_required
def donation_receipt(request: HttpRequest, pk: int) -> HttpResponse:
    from vetvol.fund import receipts

    donation = queries.get_donation_for_user(_fund_user(request), pk)
    pdf = receipts.render_pdf(donation)
    audit.record("fund.receipt.download", actor=request.user, obj=donation)
    resp = HttpResponse(pdf, content_type="application/pdf")
    resp["Content-Disposition"] = content_disposition_header(False, f"{donation.number}.pdf") or "inline"
    return resp


# Disbursements ------------------------------------------------------------------------------------------


def _source_choices(region: str, purpose: str) -> list[tuple[int, str]]:
    if not region.isdigit() or not purpose:
        return []
    return [
        (a.pk, f"{a.name}（{a.region_code}，余额 {format_fen(a.balance)} 元）")
        for a in actions.source_accounts(region, purpose)
    ]


@login_required
def disbursement_list(request: HttpRequest) -> HttpResponse:
    user = _fund_user(request)
    status = request.GET.get("status", "")
    region = request.GET.get("region", "")
    if region and not region.isdigit():
        raise Http404
    page = Paginator(queries.disbursements(user, status, region), 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "status": status,
        "statuses": DisbursementStatus.choices,
        "can_change": _may_change(request),
    }
    return render(request, "fund/disbursement_list.html", context)


@login_required
def disbursement_new(request: HttpRequest) -> HttpResponse:
    user = _fund_user(request)
    data = request.POST if request.method == "POST" else request.GET
    region, purpose = str(data.get("region", "")), str(data.get("purpose", ""))
    form = DisbursementForm(
        request.POST or None,
        accounts=_source_choices(region, purpose),
        initial={"region": region, "purpose": purpose},
    )
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            disbursement = actions.request_disbursement(
                user,
                region_code=d["region"],
                purpose=d["purpose"],
                account=d["account"],
                amount=d["amount"],
                recipient_org=d["recipient_org"],
                title=d["title"],
                description=d["description"],
                evidence=_uploads(request),
            )
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, _("已提交申请 %(number)s") % {"number": disbursement.number})
            return redirect("fund:disbursement", pk=disbursement.pk)
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "title": _("申请拨付"), "upload": True}
    return render(request, "fund/disbursement_form.html", context, status=status)


@login_required
def disbursement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    d = queries.get_disbursement_for_user(_fund_user(request), pk)
    can_change = Disbursement.objects.restrict(request.user, Action.CHANGE).filter(pk=d.pk).exists()
    context = {
        "d": d,
        "evidence": d.evidence.defer("data").select_related("uploaded_by"),
        "can_change": can_change,
        "may_decide": can_change
        and d.status == DisbursementStatus.REQUESTED
        and actions.may_approve(request.user, d),
        "is_requester": d.requested_by_id == request.user.pk,
        "decision_form": DecisionForm(),
        "payment_form": PaymentForm(),
        "report_form": ReportForm(),
        "reason_form": ReasonForm(),
    }
    return render(request, "fund/disbursement_detail.html", context)


STEPS = ("decide", "withdraw", "pay", "report")


@login_required
@require_POST
def disbursement_step(request: HttpRequest, pk: int, step: str) -> HttpResponse:
    if step not in STEPS:
        raise Http404
    d = queries.get_disbursement_for_user(_fund_user(request), pk, Action.CHANGE)
    user = request.user
    try:
        if step == "decide":
            form: Any = DecisionForm(request.POST)
            if not form.is_valid():
                raise ValidationError({"decision": [_("请选择批准或驳回")]})
            approve = form.cleaned_data["decision"] == "approve"
            actions.decide_disbursement(user, d, approve=approve, note=form.cleaned_data["note"])
            done = _("已批准，资金已锁定待支付") if approve else _("已驳回")
        elif step == "withdraw":
            form = ReasonForm(request.POST)
            actions.withdraw_disbursement(user, d, form.data.get("reason", ""))
            done = _("已撤回")
        elif step == "pay":
            form = PaymentForm(request.POST)
            actions.pay_disbursement(
                user, d, reference=form.data.get("reference", ""), evidence=_uploads(request)
            )
            done = _("已登记支付")
        else:
            form = ReportForm(request.POST)
            actions.report_use(user, d, report=form.data.get("report", ""), evidence=_uploads(request))
            done = _("已报告使用情况")
    except ValidationError as exc:
        messages.error(request, error_text(exc))
    except PermissionDenied as exc:
        messages.error(request, str(exc) or _("没有权限"))
    else:
        messages.success(request, done)
    return redirect("fund:disbursement", pk=d.pk)


@login_required
def evidence_download(request: HttpRequest, pk: int) -> HttpResponse:
    evidence = queries.get_evidence_for_user(_fund_user(request), pk)
    resp = HttpResponse(bytes(evidence.data), content_type=evidence.content_type)
    resp["Content-Disposition"] = content_disposition_header(True, evidence.name) or "attachment"
    resp["X-Content-Type-Options"] = "nosniff"
    return resp


# Ledger and exports -------------------------------------------------------------------------------------


@login_required
def ledger_view(request: HttpRequest) -> HttpResponse:
    user = _fund_user(request)
    page = Paginator(queries.transactions(user).prefetch_related("legs__account"), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "fund/ledger.html", {"page": page})


EXPORTS = ("donations", "disbursements", "ledger")


def _export(user: Any, what: str) -> Export:
    if what == "donations":
        qs = queries.donations(user).order_by("received_on", "id")
        headers = [
            _("收据编号"),
            _("捐赠方"),
            _("类型"),
            _("形式"),
            _("金额（元）"),
            _("用途"),
            _("限定地区"),
            _("到账日期"),
            _("物资说明"),
            _("已冲正"),
        ]
        rows = (
            [
                d.number,
                d.donor.name,
                d.donor.get_kind_display(),
                d.get_form_display(),
                format_fen(d.amount),
                d.get_purpose_display(),
                d.region_code,
                d.received_on.isoformat(),
                d.goods_description,
                _("是") if d.is_reversed else "",
            ]
            for d in qs.iterator(chunk_size=2000)
        )
        return Export("fund-donations", _("捐赠"), headers, rows, qs.count())
    if what == "disbursements":
        qs_d = queries.disbursements(user).order_by("created_at", "id")
        headers = [
            _("编号"),
            _("项目名称"),
            _("用途"),
            _("地区"),
            _("收款单位"),
            _("金额（元）"),
            _("状态"),
            _("审批层级"),
            _("支付凭证号"),
            _("使用情况报告"),
        ]
        rows = (
            [
                d.number,
                d.title,
                d.get_purpose_display(),
                d.region_code,
                d.recipient_org,
                format_fen(d.amount),
                d.get_status_display(),
                d.get_tier_display(),
                d.payment_reference,
                d.report,
            ]
            for d in qs_d.iterator(chunk_size=2000)
        )
        return Export("fund-disbursements", _("拨付"), headers, rows, qs_d.count())
    qs_t = queries.transactions(user).order_by("at", "chain", "seq").prefetch_related("legs__account")
    headers = [
        _("分录"),
        _("时间"),
        _("类型"),
        _("用途"),
        _("地区"),
        _("摘要"),
        _("科目"),
        _("借方（元）"),
        _("贷方（元）"),
        _("哈希"),
    ]
    rows = (
        [
            f"T{t.pk}",
            t.at.isoformat(timespec="seconds"),
            t.get_kind_display(),
            t.purpose,
            t.region_code,
            t.memo,
            leg.account.code,
            format_fen(leg.amount) if leg.amount > 0 else "",
            format_fen(-leg.amount) if leg.amount < 0 else "",
            t.entry_hash,
        ]
        for t in qs_t.iterator(chunk_size=1000)
        for leg in t.legs.all()
    )
    return Export("fund-ledger", _("分录"), headers, rows, qs_t.count())


@login_required
def export(request: HttpRequest, what: str) -> HttpResponseBase:
    user = _fund_user(request)
    if what not in EXPORTS:
        raise Http404
    data = _export(user, what)
    audit.record("fund.export", actor=user, subject=what, detail={"rows": data.count})
    return response(data, "xlsx")
