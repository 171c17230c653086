"""Volunteer pages: registration by staff and by the person on a phone, detail, edit, lifecycle."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vetvol.core.masking import mask
from vetvol.core.scoping import Action, allowed_prefixes, covers
from vetvol.regions.models import Region
from vetvol.registry import actions, queries
from vetvol.registry.forms import SelfRegisterForm, StatusForm, VolunteerForm
from vetvol.registry.models import VolunteerStatus

PAGE_SIZE = 50
IDENTIFIERS = ("id_number", "phone", "address")  # masked on every form; revealed one at a time, audited
MAX_PAGE = 100_000  # beyond it the OFFSET alone is the cost, and a huge number must not reach the database


def _apply_errors(form: Form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _region_choices(selected: str) -> dict[str, Any]:
    """The city → district → street cascade of the registration form, pre-filled for `selected`."""
    chain = [c for c in (selected[:4], selected[:6], selected[:9]) if selected]
    return {
        "cities": Region.objects.filter(level="city").order_by("code"),
        "selected_chain": chain,
        "selected_region": Region.objects.filter(code=selected).first() if selected else None,
    }


@require_GET
def region_options(request: HttpRequest) -> HttpResponse:
    """<option>s of the children of a region (public: the tree is public information)."""
    parent = (request.GET.get("_district") or request.GET.get("_city") or "")[:12]
    children: Any = []
    if parent.isdigit():
        # Dongguan and Zhongshan list towns at the district step; a town then offers itself as the street.
        node = Region.objects.filter(code=parent).first()
        if node is not None and node.level == "township":
            children = [node]
        else:
            children = Region.objects.filter(parent_id=parent).order_by("code")
    return render(request, "registry/_region_options.html", {"children": children})


@login_required
def volunteer_create(request: HttpRequest) -> HttpResponse:
    form = VolunteerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        raw = {**form.raw(), "availability": form.availability_mask()}
        try:
            volunteer = actions.register_volunteer(
                request.user,
                raw,
                publicity_consent=form.cleaned_data["publicity_consent"],
                location_consent=form.cleaned_data["location_consent"],
            )
            if form.skill_levels():
                actions.set_skills(request.user, volunteer, form.skill_levels())
        except ValidationError as exc:
            _apply_errors(form, exc)
        except PermissionDenied:
            form.add_error("home_region", _("您无权在该区划登记志愿者"))
        else:
            messages.success(
                request,
                _("已登记志愿者 %(name)s，编号 %(number)s")
                % {"name": volunteer.name, "number": volunteer.number},
            )
            return redirect("registry:volunteer_detail", pk=volunteer.pk)
    context = {"form": form, **_region_choices(form.data.get("home_region", ""))}
    return render(request, "registry/volunteer_form.html", context, status=400 if form.errors else 200)


def self_register(request: HttpRequest) -> HttpResponse:
    """Real-name self-registration on a phone; the record waits for a station's verification."""
    form = SelfRegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        raw = {**form.raw(), "availability": form.availability_mask()}
        try:
            volunteer = actions.self_register(
                raw,
                password=form.cleaned_data["password"],
                skills=form.skill_levels(),
                publicity_consent=form.cleaned_data["publicity_consent"],
                location_consent=form.cleaned_data["location_consent"],
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            return redirect("registry:self_register_done", number=volunteer.number)
    context = {"form": form, **_region_choices(form.data.get("home_region", ""))}
    return render(request, "registry/self_register.html", context, status=400 if form.errors else 200)


def self_register_done(request: HttpRequest, number: str) -> HttpResponse:
    return render(request, "registry/self_register_done.html", {"number": number[:20]})


@login_required
def volunteer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = queries.get_volunteer_for_user(request.user, pk)
    context = {
        "v": volunteer,
        "can_unmask": covers(allowed_prefixes(request.user, Action.UNMASK), volunteer.region_code),
        "can_manage": covers(allowed_prefixes(request.user, Action.CHANGE_PEOPLE), volunteer.region_code),
        "skills": volunteer.skills.select_related("skill").order_by("skill__category", "skill__code"),
        "certificates": volunteer.certificates.select_related("type").order_by("type__code"),
        "memberships": volunteer.memberships.filter(left_on=None).select_related("team"),
        "history": volunteer.status_changes.select_related("by").order_by("-at")[:20],
        "status_form": StatusForm(),
    }
    return render(request, "registry/volunteer_detail.html", context)


@login_required
@require_POST
def volunteer_reveal(request: HttpRequest, pk: int, field: str) -> HttpResponse:
    """The full value of one masked field, for an htmx swap; refused and audited without the right."""
    volunteer = queries.get_volunteer_for_user(request.user, pk)
    value = actions.reveal(request.user, volunteer, field)
    # From the edit form (`?into=form`) the value comes back as the form's own input, filled, to edit.
    into_form = request.GET.get("into") == "form"
    context = {"value": value, "field": _edit_form(None, {field: value})[field] if into_form else None}
    return render(request, "registry/_revealed.html", context)


def _edit_form(data: Any, initial: dict[str, Any]) -> VolunteerForm:
    """The edit form: the ID number is fixed once registered."""
    form = VolunteerForm(data, initial=initial)
    form.fields["id_number"].disabled = True
    return form


@login_required
def volunteer_edit(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = queries.get_volunteer_for_user(request.user, pk, Action.CHANGE)
    initial = {
        f: getattr(volunteer, f)
        for f in (
            "name",
            "is_veteran",
            "service_branch",
            "enlistment_year",
            "discharge_year",
            "is_retired_cadre",
            "is_party_member",
            "guardian_name",
        )
    }
    initial.update(
        home_region=volunteer.home_region_id,
        publicity_consent=volunteer.publicity_consent,
        location_consent=volunteer.location_consent,
        availability=[str(b) for b in range(21) if volunteer.availability >> b & 1],
    )
    # The form shows identifiers masked for everyone, as the detail page does: a masked value sent back
    # unchanged keeps the stored one. A viewer with the unmask right reveals a field (audited) to edit it.
    masked = {f: mask(getattr(volunteer, f), f) for f in IDENTIFIERS}
    initial.update(masked)
    form = _edit_form(request.POST or None, initial)
    if request.method == "POST" and form.is_valid():
        raw = {**form.raw(), "availability": form.availability_mask()}
        raw.pop("id_number", None)
        for f in ("phone", "address"):
            if f in raw and raw[f] == masked[f]:
                raw[f] = getattr(volunteer, f)
        try:
            actions.update_volunteer(request.user, volunteer, raw)
            for kind in ("publicity", "location"):
                wanted = form.cleaned_data[f"{kind}_consent"]
                if wanted != getattr(volunteer, f"{kind}_consent"):
                    actions.set_consent(request.user, volunteer, kind, wanted)
        except ValidationError as exc:
            _apply_errors(form, exc)
        except PermissionDenied:
            form.add_error("home_region", _("您无权把志愿者迁入该区划"))
        else:
            messages.success(request, _("已保存"))
            return redirect("registry:volunteer_detail", pk=volunteer.pk)
    may_unmask = covers(allowed_prefixes(request.user, Action.UNMASK), volunteer.region_code)
    context = {
        "form": form,
        "v": volunteer,
        "revealable": [f for f in IDENTIFIERS if may_unmask and getattr(volunteer, f)],
        **_region_choices(form.data.get("home_region") or volunteer.home_region_id),
    }
    return render(request, "registry/volunteer_form.html", context, status=400 if form.errors else 200)


@login_required
@require_POST
def volunteer_status(request: HttpRequest, pk: int) -> HttpResponse:
    volunteer = queries.get_volunteer_for_user(request.user, pk, Action.CHANGE)
    form = StatusForm(request.POST)
    if form.is_valid():
        try:
            actions.change_status(
                request.user, volunteer, form.cleaned_data["status"], form.cleaned_data["reason"]
            )
            messages.success(
                request,
                _("状态已变更为“%(status)s”")
                % {"status": VolunteerStatus(form.cleaned_data["status"]).label},
            )
        except ValidationError as exc:
            messages.error(request, "；".join(m for ms in exc.message_dict.values() for m in ms))
    return redirect("registry:volunteer_detail", pk=volunteer.pk)


@login_required
def volunteer_list(request: HttpRequest) -> HttpResponse:
    """The talent pool: the volunteers the user may see, filtered, paginated, identifiers masked."""
    from vetvol.registry.filters import FilterError, talent_filter_from_params
    from vetvol.registry.models import CertificateType, Skill

    errors: dict[str, str] = {}
    try:
        f = talent_filter_from_params(request.GET)
    except FilterError as exc:
        errors = exc.errors
        f = talent_filter_from_params({})
    raw_page = request.GET.get("page", "1")
    page_number = int(raw_page) if raw_page.isdecimal() and len(raw_page) <= 9 else 1
    page_number = min(max(page_number, 1), MAX_PAGE)
    # No COUNT over the whole pool: the page's ids (and one more, for "next"), then their rows.
    page = queries.page_of(queries.talent_search(request.user, f), page_number, PAGE_SIZE)
    params = request.GET.copy()
    params.pop("page", None)
    context = {
        "page": page,
        "errors": errors,
        "skills": Skill.objects.filter(is_active=True),
        "certificate_types": CertificateType.objects.filter(is_active=True),
        "statuses": VolunteerStatus.choices,
        "params": request.GET,
        "query": params.urlencode(),
    }
    return render(request, "registry/volunteer_list.html", context, status=400 if errors else 200)
