"""Label selector strings and LabelSelector dicts: parsing, canonical form, matching, errors."""

from __future__ import annotations

import pytest

from veloro_core.selection import SelectorError, matches_any, parse_selector, selector_from_dict

LABELS = {"app": "web", "tier": "front", "env": "prod", "replicas": "3"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", True),
        ("app=web", True),
        ("app==web", True),
        ("app!=web", False),
        ("app!=db", True),
        ("missing!=x", True),
        ("tier in (front, back)", True),
        ("tier notin (front)", False),
        ("missing notin (a)", True),
        ("tier in (back)", False),
        ("env", True),
        ("!env", False),
        ("!missing", True),
        ("app=web,tier=front,!legacy", True),
        ("app=web,tier=back", False),
        ("replicas>2", True),
        ("replicas<2", False),
        ("example.com/role=x", False),
        ("app=", False),
    ],
)
def test_selector_strings_match_like_kubernetes(text: str, expected: bool) -> None:
    assert parse_selector(text).matches(LABELS) is expected


def test_empty_value_selects_empty_label() -> None:
    assert parse_selector("flag=").matches({"flag": ""})


@pytest.mark.parametrize(
    "text",
    [
        "app=web,",
        "=web",
        "app in web",
        "app in ()",
        "app = (x)",
        "tier notin (a",
        "bad key!=x",
        "app=-bad-",
        "a" * 64 + "=x",
        "Not_A_DNS/key=x",
        "app=web tier=x",
        "replicas>x",
    ],
)
def test_bad_selector_strings_say_what_is_wrong(text: str) -> None:
    with pytest.raises(SelectorError, match="invalid label selector"):
        parse_selector(text)


def test_canonical_string_round_trips() -> None:
    sel = parse_selector("tier in (front,back), app = web,!legacy,env")
    assert sel.to_string() == "tier in (back,front),app=web,!legacy,env"
    assert parse_selector(sel.to_string()) == sel


def test_label_selector_dict() -> None:
    sel = selector_from_dict(
        {
            "matchLabels": {"app": "web"},
            "matchExpressions": [
                {"key": "tier", "operator": "In", "values": ["front", "back"]},
                {"key": "legacy", "operator": "DoesNotExist"},
                {"key": "env", "operator": "Exists"},
                {"key": "zone", "operator": "NotIn", "values": ["a"]},
            ],
        }
    )
    assert sel.matches(LABELS)
    assert not sel.matches({**LABELS, "legacy": "1"})
    assert not sel.matches({"app": "web"})
    assert sel.to_string() == "app=web,tier in (back,front),!legacy,env,zone notin (a)"
    assert selector_from_dict({}).matches({}) and selector_from_dict(None).empty


@pytest.mark.parametrize(
    ("data", "why"),
    [
        ({"matchExpressions": [{"key": "a", "operator": "Is", "values": ["x"]}]}, "not one of In"),
        ({"matchExpressions": [{"key": "a", "operator": "In"}]}, "needs at least one value"),
        ({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]}, "takes no values"),
        ({"matchLabels": {"a": "has space"}}, "value"),
        ({"matchLabels": ["a"]}, "matchLabels must be a map"),
        ("app=web", "expected an object"),
    ],
)
def test_bad_label_selector_dicts(data: object, why: str) -> None:
    with pytest.raises(SelectorError, match=why):
        selector_from_dict(data)  # type: ignore[arg-type]


def test_or_selectors_are_a_union() -> None:
    sels = [parse_selector("app=db"), parse_selector("tier=front")]
    assert matches_any(sels, LABELS)
    assert not matches_any(sels, {"app": "web"})
    assert not matches_any([], LABELS)
