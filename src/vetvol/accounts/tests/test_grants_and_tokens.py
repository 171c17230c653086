import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from vetvol.accounts import actions
from vetvol.accounts.models import RoleGrant
from vetvol.core.models import AuditEntry
from vetvol.regions.models import Region


def test_city_admin_grants_inside_the_city_only(people):
    actions.grant_role(
        people.sz_admin, people.outsider, "station_staff", Region.objects.get(code="440304002")
    )
    assert RoleGrant.objects.filter(user=people.outsider, region_id="440304002").count() == 1
    with pytest.raises(PermissionDenied):
        actions.grant_role(
            people.sz_admin, people.outsider, "station_staff", Region.objects.get(code="440106")
        )
    assert (
        AuditEntry.objects.filter(
            action="accounts.grant.create", outcome="denied", region_code="440106"
        ).count()
        == 1
    )


def test_district_admin_cannot_make_a_city_admin(people):
    with pytest.raises(PermissionDenied):
        actions.grant_role(
            people.futian_admin, people.outsider, "city_admin", Region.objects.get(code="440304")
        )


def test_admin_roles_sit_on_their_own_level(people):
    with pytest.raises(ValidationError) as err:
        actions.grant_role(people.root, people.outsider, "district_admin", Region.objects.get(code="4403"))
    assert err.value.message_dict == {"region": ["区县级管理员只能授予县级一级的区划"]}


def test_auditor_and_volunteer_cannot_grant(people):
    for actor in (people.auditor, people.volunteer):
        with pytest.raises(PermissionDenied):
            actions.grant_role(actor, people.outsider, "volunteer", Region.objects.get(code="440304001"))


def test_same_grant_twice_is_a_validation_error(people):
    with pytest.raises(ValidationError):
        actions.grant_role(people.root, people.volunteer, "volunteer", Region.objects.get(code="440304001"))


def test_api_token_authenticates_and_is_scoped(client, people):
    _, plain = actions.create_api_token(people.tianhe_admin, "报表脚本")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {plain}"}
    assert client.get("/api/regions/440106", **auth).status_code == 200
    assert client.get("/api/regions/440304", **auth).status_code == 404
    assert client.get("/api/regions/440106", HTTP_AUTHORIZATION="Bearer vv_bad_token").status_code == 401
    assert client.get("/api/regions/440106").json() == {
        "detail": "请先登录或提供有效的 API 令牌",
        "errors": [],
    }


def test_revoked_token_stops_working(client, people):
    token, plain = actions.create_api_token(people.tianhe_admin, "临时")
    actions.revoke_api_token(people.tianhe_admin, token)
    assert client.get("/api/regions/440106", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 401


def test_expired_token_stops_working(client, people):
    from datetime import timedelta

    from django.utils import timezone

    from vetvol.accounts.models import ApiToken

    token, plain = actions.create_api_token(people.tianhe_admin, "过期")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get("/api/regions/440106", HTTP_AUTHORIZATION=f"Bearer {plain}").status_code == 401


def test_token_use_is_noted_at_most_every_few_minutes(people):
    from datetime import timedelta

    from django.utils import timezone

    from vetvol.accounts.models import ApiToken

    token, plain = actions.create_api_token(people.tianhe_admin, "脚本")
    assert actions.user_for_token(plain) == people.tianhe_admin
    actions.flush_token_touches()
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    assert first is not None and abs(timezone.now() - first) < timedelta(minutes=1)
    assert actions.user_for_token(plain).pk == people.tianhe_admin.pk
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - timedelta(minutes=6))
    actions.user_for_token(plain)  # noted, and written with the notes of the same second
    actions.flush_token_touches()
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first
    people.tianhe_admin.is_active = False
    people.tianhe_admin.save(update_fields=["is_active"])
    assert actions.user_for_token(plain) is None
