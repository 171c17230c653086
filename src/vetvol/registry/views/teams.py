"""Team pages: list and tree, detail with members, create and edit, add members, squads by discharge year."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from vetvol.core.scoping import Action, allowed_prefixes, covers
from vetvol.regions.queries import get_region_for_user
from vetvol.registry import actions, queries, squads
from vetvol.registry.forms import MemberForm, SquadForm, TeamForm
from vetvol.registry.models import TeamSpecialty, Volunteer
from vetvol.registry.views.volunteers import _apply_errors


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    region = request.GET.get("region", "").strip()[:12]
    specialty = request.GET.get("specialty", "")
    specialty = specialty if specialty in TeamSpecialty.values else ""
    text = request.GET.get("q", "").strip()[:50]
    brand = request.GET.get("brand", "").strip()[:30]
    teams = queries.teams_for_user(
        request.user, region=region if region.isdigit() else "", brand=brand, specialty=specialty, text=text
    )
    page = Paginator(teams, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "region": region,
        "specialty": specialty,
        "q": text,
        "brand": brand,
        "specialties": TeamSpecialty.choices,
    }
    return render(request, "registry/team_list.html", context)


@login_required
def team_detail(request: HttpRequest, pk: int) -> HttpResponse:
    team = queries.get_team_for_user(request.user, pk)
    can_change = team.__class__.objects.restrict(request.user, Action.CHANGE).filter(pk=team.pk).exists()
    context = {
        "team": team,
        "children": queries.teams_for_user(request.user).filter(parent=team),
        "members": queries.team_members(team),
        "can_change": can_change,
        "can_see_people": covers(allowed_prefixes(request.user, Action.VIEW_PEOPLE), team.region_code),
        "member_form": MemberForm(),
        "squad_form": SquadForm(),
    }
    return render(request, "registry/team_detail.html", context)


@login_required
def team_create(request: HttpRequest) -> HttpResponse:
    parent_id = request.GET.get("parent") or request.POST.get("parent")
    parent = (
        queries.get_team_for_user(request.user, int(parent_id)) if parent_id and parent_id.isdigit() else None
    )
    form = TeamForm(
        request.POST or None,
        initial={"region": parent.region_code if parent else "", "brand": parent.brand if parent else ""},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            region = get_region_for_user(request.user, data.pop("region"))
            team = actions.create_team(request.user, region=region, parent=parent, **data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        except PermissionDenied:
            form.add_error("region", _("您无权在该区划创建队伍"))
        else:
            messages.success(request, _("已创建队伍“%(name)s”") % {"name": team.name})
            return redirect("registry:team_detail", pk=team.pk)
    return render(
        request,
        "registry/team_form.html",
        {"form": form, "parent": parent},
        status=400 if form.errors else 200,
    )


@login_required
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    team = queries.get_team_for_user(request.user, pk, Action.CHANGE)
    fields = (
        "name",
        "brand",
        "specialty",
        "founded_on",
        "civil_status",
        "civil_number",
        "civil_date",
        "description",
    )
    form = TeamForm(
        request.POST or None, initial={**{f: getattr(team, f) for f in fields}, "region": team.region_code}
    )
    form.fields["region"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k in fields}
        try:
            actions.update_team(request.user, team, **data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("registry:team_detail", pk=team.pk)
    return render(
        request, "registry/team_form.html", {"form": form, "team": team}, status=400 if form.errors else 200
    )


@login_required
def liaison_point(request: HttpRequest, pk: int) -> HttpResponse:
    """Give the team a liaison room in a centre or station of its region (or take it away)."""
    team = queries.get_team_for_user(request.user, pk, Action.CHANGE)
    choices = queries.free_liaison_points(request.user, team)
    if request.method == "POST":
        raw = request.POST.get("liaison_point", "")
        point = next((p for p in choices if str(p.pk) == raw), None)
        if raw and point is None:
            messages.error(request, _("请选择本队所在区划内尚未分配的联络点"))
        else:
            try:
                actions.assign_liaison_point(request.user, team, point)
            except (ValidationError, PermissionDenied) as exc:
                messages.error(request, "；".join(getattr(exc, "messages", [_("无权进行此操作")])))
            else:
                messages.success(request, _("联络点已更新"))
                return redirect("registry:team_detail", pk=team.pk)
    return render(request, "registry/liaison_point_form.html", {"team": team, "choices": choices})


@login_required
def member_add(request: HttpRequest, pk: int) -> HttpResponse:
    team = queries.get_team_for_user(request.user, pk, Action.CHANGE)
    form = MemberForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        volunteer = Volunteer.objects.filter(
            number=form.cleaned_data["volunteer_number"].strip().upper()
        ).first()
        try:
            if volunteer is None:
                raise ValidationError({"volunteer_number": [_("没有这个志愿者编号，请核对")]})
            actions.add_member(request.user, team, volunteer, form.cleaned_data["role"])
        except ValidationError as exc:
            messages.error(request, "；".join(m for ms in exc.message_dict.values() for m in ms))
        else:
            messages.success(
                request, _("%(name)s 已加入 %(team)s") % {"name": volunteer.name, "team": team.name}
            )
    return redirect("registry:team_detail", pk=team.pk)


@login_required
def squads_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Propose squads by discharge year; the leader reviews, then applies or changes the size."""
    team = queries.get_team_for_user(request.user, pk, Action.CHANGE)
    form = SquadForm(request.POST or request.GET or None)
    members = list(queries.team_members(team).values_list("volunteer_id", "volunteer__discharge_year"))
    proposal = squads.propose(members, form.cleaned_data["size"]) if form.is_valid() and members else []
    if request.method == "POST" and request.POST.get("apply") == "1" and proposal:
        try:
            created = actions.apply_squads(request.user, team, proposal)
        except ValidationError as exc:
            messages.error(request, "；".join(m for ms in exc.message_dict.values() for m in ms))
        else:
            messages.success(request, _("已按退役年份分为 %(n)d 个班") % {"n": len(created)})
            return redirect("registry:team_detail", pk=team.pk)
    names = dict(Volunteer.objects.filter(pk__in=[m[0] for m in members]).values_list("pk", "name"))
    rows = [(s, [names[v] for v in s.volunteer_ids]) for s in proposal]
    return render(
        request, "registry/squads.html", {"team": team, "form": form, "rows": rows, "count": len(members)}
    )
