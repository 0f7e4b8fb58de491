"""List paging and filters: whatever a client sends is INVALID_ARGUMENT naming the field, never
an exception that the server would turn into INTERNAL."""

from __future__ import annotations

import base64
import json

import grpc
import pytest

from editbay_common import paging
from editbay_common.errors import ServiceError


def _token(offset: object, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "f": fingerprint}).encode()).decode()


def test_quoted_filter_values_unescape() -> None:
    parsed = paging.parse_filter(r'name = "a \"b\" \u00e9" AND n = 3', {"name", "n"})
    assert parsed == {"name": 'a "b" é', "n": "3"}


@pytest.mark.parametrize("value", [r'"\q"', r'"\u12"', '"tab\there"'])
def test_a_bad_escape_in_a_filter_is_invalid_argument(value: str) -> None:
    with pytest.raises(ServiceError) as caught:
        paging.parse_filter(f"state = {value}", {"state"}, domain="x.editbay.dev")
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.metadata["field"] == "filter"
    assert caught.value.domain == "x.editbay.dev"


def test_next_token_round_trips() -> None:
    first = paging.page(2, "", "shows")
    token = first.next_token(2, has_more=True)
    assert paging.page(2, token, "shows").offset == 2
    assert first.next_token(2, has_more=False) == ""


@pytest.mark.parametrize("offset", [-1, paging.MAX_OFFSET + 1, 10**30])
def test_a_forged_page_token_offset_is_invalid_argument(offset: int) -> None:
    fingerprint = paging.page(0, "", "shows").fingerprint
    with pytest.raises(ServiceError) as caught:
        paging.page(0, _token(offset, fingerprint), "shows")
    assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.metadata["field"] == "page_token"


def test_a_token_of_another_query_is_refused() -> None:
    token = paging.page(1, "", "shows").next_token(1, has_more=True)
    with pytest.raises(ServiceError) as caught:
        paging.page(1, token, "episodes")
    assert caught.value.metadata["field"] == "page_token"
