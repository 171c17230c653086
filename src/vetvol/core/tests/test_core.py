import pytest
from django.db import transaction
from django.template import Context, Template

from vetvol.core import events
from vetvol.core.masking import mask
from vetvol.core.money import format_fen, yuan_to_fen
from vetvol.core.scoping import covers, minimal_prefixes, subtree_q


def test_masking_patterns_are_the_documented_ones():
    assert mask("440301199001011234", "id_number") == "440***********1234"
    assert mask("13812341234", "phone") == "138****1234"
    assert mask("张三", "name") == "张*"
    assert mask("欧阳明", "name") == "欧*明"
    assert mask("深圳市福田区华强北路1002号", "address") == "深圳市福田区****"
    assert mask("", "phone") == ""
    assert mask(None, "id_number") == ""


def test_template_filter_uses_the_same_masking():
    html = Template('{% load vetvol %}{{ p|mask:"phone" }} {{ f|fen }}').render(
        Context({"p": "13812341234", "f": 123456})
    )
    assert html == "138****1234 1,234.56"


def test_money_is_exact_fen():
    assert yuan_to_fen("1,234.56") == 123456
    assert yuan_to_fen("8955000") == 895500000
    assert yuan_to_fen("0.1") == 10
    assert format_fen(-5) == "-0.05"
    with pytest.raises(ValueError):
        yuan_to_fen("1.005")
    with pytest.raises(ValueError):
        yuan_to_fen("abc")


def test_prefix_ranges():
    assert minimal_prefixes(["440304", "44", "4403", "45"]) == ["44", "45"]
    assert covers(["4403"], "440304001")
    assert not covers(["4403"], "4401")
    assert not covers(["440304"], "4403")
    assert covers(None, "anything")
    assert str(subtree_q("code", [])) == str(subtree_q("code", []))


@pytest.mark.django_db(transaction=True)
def test_events_are_delivered_after_commit_and_never_after_rollback():
    seen: list[tuple[str, dict]] = []

    def handler(name: str, payload: dict) -> None:
        seen.append((name, payload))

    events.subscribe("test.happened", handler)
    try:
        with transaction.atomic():
            events.emit("test.happened", n=1)
            assert seen == []  # not before commit
        assert seen == [("test.happened", {"n": 1})]
        with pytest.raises(RuntimeError), transaction.atomic():
            events.emit("test.happened", n=2)
            raise RuntimeError("rolled back")
        assert seen == [("test.happened", {"n": 1})]
    finally:
        events.unsubscribe("test.happened", handler)


@pytest.mark.django_db(transaction=True)
def test_a_failing_subscriber_does_not_stop_the_others():
    seen: list[int] = []

    def bad(name: str, payload: dict) -> None:
        raise ValueError("broken subscriber")

    def good(name: str, payload: dict) -> None:
        seen.append(payload["n"])

    events.subscribe("test.multi", bad)
    events.subscribe("test.multi", good)
    try:
        with transaction.atomic():
            events.emit("test.multi", n=7)
        assert seen == [7]
    finally:
        events.unsubscribe("test.multi", bad)
        events.unsubscribe("test.multi", good)
