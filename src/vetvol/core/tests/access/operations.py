"""The registry of every API operation of /api/openapi.json, keyed "METHOD /path" (see matrix.py).

Writes are checked for refusals only: a role outside the side gets 404, a role that sees the object but may
not act 403 (or 422 when the body is refused before the handler looks the object up, which tells nothing),
anonymous 401. `body` replaces the body made from the schema where that one would stop at validation."""

from __future__ import annotations

from vetvol.core.tests.access.matrix import Entry

ADMINS = "P S F | P T"
STAFF = "P S F St | P T"
ANY = "*"
# creations name their region in the body: a caller without a grant there is refused (403/404) or told
# that the body is wrong (422); the region checks themselves are the apps' own tests
MAKERS = "P S F T St L V W Au"
CREATE = (403, 404, 422)
CHECK_IN = {"method": "gps", "lat": 22.5333, "lng": 114.05}


def E(who: str, **kw) -> Entry:
    return Entry(who, kw=True, **kw)


def W(who: str, **kw) -> Entry:
    return Entry(who, kw=True, post=True, **{"refused": (403, 404, 422), **kw})


def G(who: str, **kw) -> Entry:
    return Entry(who, **kw)


def C(who: str = MAKERS, **kw) -> Entry:
    return Entry(who, post=True, refused=CREATE, **kw)


OPERATIONS: dict[str, Entry] = {
    # benchmark baselines (bench/checkin_load.py): the API's auth and parsing, no lookup, nothing written
    "GET /api/noop": G(ANY),
    "POST /api/noop/{activity_id}": W("* | *", body=CHECK_IN),
    "GET /api/regions/": G(ANY),
    "GET /api/regions/search": G(ANY),
    "GET /api/regions/{code}": E("P S F L Au | P T W Au"),
    "PUT /api/regions/{code}/centre": W(ADMINS),
    "PATCH /api/regions/centres/{centre_id}": W(ADMINS),
    "POST /api/regions/{code}/liaison-points": W(ADMINS),
    "PATCH /api/regions/liaison-points/{point_id}": W(ADMINS),
    "POST /api/registry/volunteers/": C(),
    "GET /api/registry/volunteers/search": G(ANY),
    "GET /api/registry/volunteers/{volunteer_id}": E("P S F St L V Au | P T W Au"),
    # a reveal needs unmask where the volunteer lives: those who see but may not unmask get 403 (audited)
    "POST /api/registry/volunteers/{volunteer_id}/reveal": W(ADMINS),
    "PATCH /api/registry/volunteers/{volunteer_id}": W("P S F St V | P T"),
    "POST /api/registry/volunteers/{volunteer_id}/status": W(
        "P S F St | P T", body={"status": "suspended", "reason": "测试"}
    ),
    "PUT /api/registry/volunteers/{volunteer_id}/skills": W("P S F St V | P T"),
    "POST /api/registry/volunteers/{volunteer_id}/certificates": W("P S F St V | P T"),
    "GET /api/registry/teams/": G(ANY),
    "POST /api/registry/teams/": C(),
    "GET /api/registry/teams/{team_id}": E("P S F L Au | P T W Au"),
    "PATCH /api/registry/teams/{team_id}": W("P S F L | P T"),
    "PUT /api/registry/teams/{team_id}/liaison-point": W(ADMINS),
    "GET /api/registry/teams/{team_id}/members": E("P S F L Au | P T W Au"),
    "POST /api/registry/teams/{team_id}/members": W("P S F L | P T"),
    "POST /api/registry/teams/{team_id}/members/{membership_id}/leave": W("P S F L | P T"),
    "GET /api/registry/teams/{team_id}/squads/proposal": E("P S F L | P T"),
    "POST /api/registry/imports/": C(),
    "GET /api/registry/imports/{job_id}": E("P S F Au | P T W Au"),
    "POST /api/registry/imports/{job_id}/run": W(ADMINS),
    "GET /api/registry/export/volunteers.csv": G("P S F T"),
    "GET /api/registry/export/teams.csv": G("P S F T"),
    "GET /api/activities/open": G(ANY),
    # an activity is open to every volunteer; a login without a volunteer record is told so (422)
    "POST /api/activities/{activity_id}/signups": W("L V | L V", outside=(404, 422)),
    "POST /api/activities/signups/{signup_id}/cancel": W("P S F St V | P T"),
    # anyone may try a check-in on an activity they can reach (the code or the position decides)
    "POST /api/activities/{activity_id}/check-in": W("L V | L V", body=CHECK_IN, outside=(404, 422)),
    "POST /api/activities/{activity_id}/check-out": W("L V | L V", body=CHECK_IN, outside=(404, 422)),
    "GET /api/activities/me/hours": G(ANY),
    "GET /api/dispatch/incidents": G(ANY),
    "POST /api/dispatch/incidents": C(),
    "GET /api/dispatch/incidents/{incident_id}": E("P S F L Au | P T W Au"),
    "PATCH /api/dispatch/incidents/{incident_id}": W(ADMINS),
    "GET /api/dispatch/incidents/{incident_id}/timeline": E("P S F Au | P T W Au"),
    # the reporter's phone: those who see the incident but may not unmask get 403 (audited); a one-value
    # Literal is a `const` in the schema, so the body is given
    "POST /api/dispatch/incidents/{incident_id}/reveal": W(ADMINS, body={"field": "reporter_phone"}),
    "GET /api/dispatch/board": G("P S F T St W Au"),
    "POST /api/dispatch/incidents/{incident_id}/close": W(ADMINS),
    "POST /api/dispatch/incidents/{incident_id}/team-invitations": W(ADMINS),
    "GET /api/dispatch/team-invitations/{ti_id}/eligible": E("P S F L Au | P T W Au"),
    "POST /api/dispatch/team-invitations/{ti_id}/members": W("P S F L | P T"),
    "GET /api/dispatch/team-totals": G(ANY),
    "GET /api/dispatch/run-cards": G(ANY),
    "POST /api/dispatch/run-cards": C(),
    # a district's run card applies below it: everyone on the branch reads it
    "GET /api/dispatch/run-cards/{card_id}": E("P S F St L V Au | P T W Au"),
    "DELETE /api/dispatch/run-cards/{card_id}": W(ADMINS),
    "GET /api/dispatch/my/invitations": G(ANY),
    "POST /api/dispatch/invitations/{invitation_id}/answer": W("V | -", outside=(404,)),
    "POST /api/dispatch/assignments/{assignment_id}/status": W("V | -"),
    "POST /api/dispatch/assignments/{assignment_id}/position": W("V | -"),
    "GET /api/care/campaigns": G(ANY),
    "POST /api/care/campaigns": C(),
    "POST /api/care/campaigns/{campaign_id}/assign": W(ADMINS),
    "GET /api/care/campaigns/{campaign_id}/progress": E("P S F L Au | P T W Au"),
    "GET /api/care/me/visits": G(ANY),
    "POST /api/care/campaign-tasks/{task_id}/visit": W("P S F St V | P T"),
    "GET /api/care/cases": G(ANY),
    "GET /api/care/cases/{case_id}": E("P S F St Au | P T W Au"),
    # a visit's summary (the world has no visit: visit 0 names none, so this proves the case's scoping; who
    # may reveal is proved in care/tests/test_visit_privacy.py)
    "POST /api/care/cases/{case_id}/reveal": W(STAFF, body={"visit_id": 0, "field": "summary"}),
    "POST /api/care/cases/{case_id}/tasks/{task_id}/complete": W(STAFF),
    "POST /api/care/cases/{case_id}/notes": W(STAFF),
    "POST /api/care/cases/{case_id}/visits": W(STAFF),
    "POST /api/care/cases/{case_id}/referral": W(STAFF),
    "POST /api/care/cases/{case_id}/close": W(STAFF),
    "POST /api/care/pairings": C(),
    "POST /api/care/pairings/{pairing_id}/visits": W("P S F St V | P T"),
    "POST /api/care/pairings/{pairing_id}/handover": W(STAFF),
    "POST /api/care/pairings/{pairing_id}/end": W(STAFF),
    "GET /api/care/me/pairings": G(ANY),
    "GET /api/care/recipients": G(ANY),
    "POST /api/care/recipients": C(),
    "GET /api/care/recipients/{recipient_id}": E("P S F St V Au | P T W Au"),
    "POST /api/care/recipients/{recipient_id}/reveal": W(STAFF),
    "POST /api/care/recipients/{recipient_id}/events": W(STAFF),
    "POST /api/care/help-requests": C(),
    "GET /api/care/help-requests/{request_id}": E("P S F St V Au | P T W Au"),
    "POST /api/care/help-requests/{request_id}/verify": W(STAFF),
    "POST /api/care/help-requests/{request_id}/invite": W(STAFF),
    "GET /api/care/me/invitations": G(ANY),
    "POST /api/care/invitations/{invitation_id}/accept": W("V | -"),
    "POST /api/care/invitations/{invitation_id}/decline": W("V | -"),
    "POST /api/care/help-requests/{request_id}/complete": W(STAFF),
    "POST /api/care/help-requests/{request_id}/rate": W(STAFF),
    "POST /api/care/help-requests/{request_id}/cancel": W(STAFF),
    "POST /api/care/complaints": C(),
    "POST /api/care/complaints/{complaint_id}/resolve": W(STAFF),
    "GET /api/notify/inbox": G(ANY),
    "POST /api/notify/inbox/read": C(ANY),
    "GET /api/notify/push/key": G(ANY),
    "POST /api/notify/push/subscriptions": C(ANY),
    "POST /api/notify/push/unsubscribe": C(ANY),
    "GET /api/notify/preferences": G(ANY),
    "PUT /api/notify/preferences": C(ANY),
    "GET /api/notify/deliveries": G("P S F T St W Au"),
    "GET /api/fund/accounts": G("P S F T Au"),
    "GET /api/fund/donations": G("P S F T Au"),
    "POST /api/fund/donations": C(),
    "POST /api/fund/donations/{donation_id}/reverse": W("P S | P"),
    "GET /api/fund/disbursements": G("P S F T Au"),
    "POST /api/fund/disbursements": C(),
    "GET /api/fund/disbursements/{disbursement_id}": E("P S F Au | P T Au"),
    "POST /api/fund/disbursements/{disbursement_id}/decision": W("P S | P"),
    "POST /api/fund/disbursements/{disbursement_id}/payment": W("P S | P"),
    "POST /api/fund/disbursements/{disbursement_id}/report": W(ADMINS),
    "POST /api/fund/disbursements/{disbursement_id}/withdraw": W(ADMINS),
}
