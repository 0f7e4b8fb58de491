"""HTTP -> request message: path variables, query parameters, JSON bodies, field-named 400s."""

from __future__ import annotations

import pytest

from editbay.catalog.v1 import catalog_service_pb2 as catalog_pb
from editbay.planner.v1 import planner_service_pb2 as planner_pb
from editbay_gateway.http_errors import GatewayError
from editbay_gateway.routes import Route, route_table
from editbay_gateway.transcode import build_request, parse_error_field


def route(name: str) -> Route:
    return next(r for r in route_table() if r.method.name == name)


def test_body_field_and_query_and_path() -> None:
    request = build_request(
        route("CreateShow"), {}, [("show_id", "kitchen"), ("requestId", "r1")],
        b'{"displayName": "Kitchen Talks", "description": "d"}',
    )  # fmt: skip
    assert request == catalog_pb.CreateShowRequest(
        show=catalog_pb.Show(display_name="Kitchen Talks", description="d"),
        show_id="kitchen",
        request_id="r1",
    )


def test_path_variable_sets_a_nested_field_and_wins_over_the_body() -> None:
    request = build_request(
        route("UpdateShow"), {"show.name": "shows/a"}, [("update_mask", "displayName")],
        b'{"name": "shows/other", "displayName": "New"}',
    )  # fmt: skip
    assert request.show.name == "shows/a"
    assert request.show.display_name == "New"
    assert list(request.update_mask.paths) == ["display_name"]


def test_star_body_and_enum_names() -> None:
    request = build_request(
        route("GenerateEditPlan"), {"parent": "shows/s/episodes/e"}, [],
        b'{"generator": "HEURISTIC", "requestId": "x"}',
    )  # fmt: skip
    assert request == planner_pb.GenerateEditPlanRequest(
        parent="shows/s/episodes/e", generator=planner_pb.HEURISTIC, request_id="x"
    )


def test_query_types_for_get() -> None:
    request = build_request(
        route("ListTakes"), {"parent": "shows/s/episodes/e"},
        [("pageSize", "5"), ("show_deleted", "true"), ("filter", "scene_number = 2")], b"",
    )  # fmt: skip
    assert request.page_size == 5
    assert request.show_deleted is True
    assert request.filter == "scene_number = 2"


def expect_400(route_name: str, body: bytes, query: list[tuple[str, str]] | None = None) -> str:
    with pytest.raises(GatewayError) as caught:
        build_request(route(route_name), {}, query or [], body)
    assert caught.value.http == 400
    return caught.value.metadata["field"]


def test_wrong_type_names_the_nested_field() -> None:
    assert expect_400("CreateShow", b'{"displayName": 3}') == "show.displayName"


def test_unknown_field_is_named() -> None:
    assert expect_400("CreateShow", b'{"bogus": 1}') == "show.bogus"


def test_bad_timestamp_is_named() -> None:
    assert expect_400("CreateShow", b'{"createTime": "yesterday"}') == "show.createTime"


def test_bad_query_values_are_named() -> None:
    assert expect_400("ListShows", b"", [("page_size", "many")]) == "pageSize"
    assert expect_400("ListShows", b"", [("show_deleted", "perhaps")]) == "show_deleted"
    assert expect_400("ListShows", b"", [("nope", "1")]) == "nope"


def test_invalid_json_and_non_object_bodies() -> None:
    with pytest.raises(GatewayError) as caught:
        build_request(route("ApproveEditPlan"), {}, [], b"{not json")
    assert caught.value.reason == "INVALID_JSON"
    with pytest.raises(GatewayError) as caught:
        build_request(route("ApproveEditPlan"), {}, [], b"[1, 2]")
    assert caught.value.reason == "INVALID_JSON"


def test_parse_error_field_reads_nested_messages() -> None:
    text = (
        "Failed to parse show field: Failed to parse createTime field: bad. "
        "at CreateShowRequest.show.createTime.."
    )
    assert parse_error_field(text) == "show.createTime"
    assert parse_error_field("Expected true at ListTakesRequest.showDeleted.") == "showDeleted"
