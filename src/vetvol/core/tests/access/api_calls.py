"""Calling API operations for the matrix: path parameters from a side's objects, a minimal body built
from the operation's own request schema (so a write reaches the handler's lookup instead of stopping at
body validation), bearer tokens for the cast."""

from __future__ import annotations

import json
from typing import Any

PARAMS = {
    "code": "district",
    "centre_id": "centre",
    "point_id": "liaison_point",
    "volunteer_id": "volunteer",
    "team_id": "team",
    "membership_id": "membership",
    "job_id": "import_job",
    "activity_id": "activity",
    "signup_id": "signup",
    "incident_id": "incident",
    "ti_id": "team_invitation",
    "card_id": "run_card",
    "invitation_id": "invitation",
    "assignment_id": "assignment",
    "campaign_id": "campaign",
    "task_id": "campaign_task",
    "case_id": "case",
    "pairing_id": "pairing",
    "recipient_id": "recipient",
    "request_id": "help_request",
    "complaint_id": "complaint",
    "donation_id": "donation",
    "disbursement_id": "disbursement",
}
# where a parameter name means another kind of object
PATH_PARAMS = {
    "/api/care/invitations/": {"invitation_id": "help_invitation"},
    "/api/care/cases/": {"task_id": "case_task"},
}


def path_for(path: str, ids: dict[str, Any]) -> str:
    kinds = dict(PARAMS)
    for prefix, extra in PATH_PARAMS.items():
        if path.startswith(prefix):
            kinds.update(extra)
    out = path
    while "{" in out:
        start = out.index("{")
        name = out[start + 1 : out.index("}")]
        out = out[:start] + str(ids[kinds[name]]) + out[out.index("}") + 1 :]
    return out


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    if "allOf" in schema:
        return _resolve(schema["allOf"][0], components)
    if "anyOf" in schema:
        return _resolve(next(s for s in schema["anyOf"] if s.get("type") != "null"), components)
    return schema


def example(schema: dict[str, Any], components: dict[str, Any], depth: int = 0) -> Any:
    """A small value of the schema's type: the first enum, required properties only."""
    schema = _resolve(schema, components)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    fmt = schema.get("format", "")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {
            name: example(props[name], components, depth + 1)
            for name in schema.get("required", [])
            if name in props and depth < 4
        }
    if kind == "array":
        return [example(schema.get("items", {}), components, depth + 1)] if schema.get("minItems") else []
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1.0
    if kind == "boolean":
        return False
    if fmt == "date":
        return "2026-01-02"
    if fmt == "date-time":
        return "2026-01-02T10:00:00+08:00"
    return "测试"


def call(client, schema, method: str, path: str, ids: dict[str, Any], token: str | None, body: Any = None):
    op = schema["paths"][path][method]
    url = path_for(path, ids)
    extra = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    if "requestBody" in op:
        content = op["requestBody"]["content"]
        if "application/json" in content:
            components = schema["components"]["schemas"]
            body = json.dumps(
                body if body is not None else example(content["application/json"]["schema"], components)
            )
            extra["content_type"] = "application/json"
    query = "?" + "&".join(
        f"{p['name']}=测试" for p in op.get("parameters", []) if p["in"] == "query" and p.get("required")
    )
    send = getattr(client, method)
    url = url + (query if query != "?" else "")
    return send(url, body, **extra) if body is not None else send(url, **extra)
