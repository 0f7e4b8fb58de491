"""Time-ordered ids and UTC timestamps."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from editbay_common.ids import id_time, new_id, utc_now


def test_ids_are_url_safe_unique_and_sorted_in_creation_order() -> None:
    ids = [new_id() for _ in range(2000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(re.fullmatch(r"[0-9a-hjkmnp-tv-z]{26}", value) for value in ids)


def test_id_time_is_the_creation_time() -> None:
    before = utc_now()
    value = new_id()
    after = utc_now()
    made = id_time(value)
    assert before - timedelta(milliseconds=1) <= made <= after
    with pytest.raises(ValueError):
        id_time("not-an-id")


def test_utc_now_is_timezone_aware_utc() -> None:
    now = utc_now()
    assert now.utcoffset() == timedelta(0)
