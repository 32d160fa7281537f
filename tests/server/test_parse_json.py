"""The push body parser is orjson where that gives exactly what ``json.loads`` gives."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.api import parse_json

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False)
    | st.text()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=30,
)


def typed(value: Any) -> Any:
    """The value with its types spelled out: 1 and 1.0 and True must not pass as equal."""
    if isinstance(value, dict):
        return {k: typed(v) for k, v in value.items()}
    if isinstance(value, list):
        return [typed(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return ("nan",)
    return (type(value).__name__, value)


@given(values)
def test_parse_json_equals_json_loads(value: Any) -> None:
    data = json.dumps(value).encode()
    assert typed(parse_json(data)) == typed(json.loads(data))


@pytest.mark.parametrize(
    "data",
    [
        b'{"quantity": -9223372036854775809}',  # below int64: orjson would give a float
        b'{"quantity": 18446744073709551616}',  # above uint64
        b'{"amount": 123456789012345678901234567890}',
        b'{"amount": NaN}',
        b'{"name": "\\ud800"}',  # a lone surrogate
        b'{"a": 1, "a": 2}',
        b"[" * 5000 + b"]" * 5000,  # too deep for either: refused the same way
    ],
)
def test_edge_cases_are_read_as_json_loads_reads_them(data: bytes) -> None:
    assert outcome(parse_json, data) == outcome(json.loads, data)


def outcome(parse: Any, data: bytes) -> Any:
    try:
        return typed(parse(data))
    except (ValueError, RecursionError) as exc:
        return type(exc)


def test_invalid_json_is_still_refused() -> None:
    with pytest.raises(ValueError):
        parse_json(b'{"a": ')
