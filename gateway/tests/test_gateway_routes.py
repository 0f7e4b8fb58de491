"""The route table derived from the descriptors, and path template matching."""

from __future__ import annotations

import pytest
from google.api import annotations_pb2

from editbay_gateway.routes import Kind, Router, route_table
from editbay_gateway.services import SERVICES
from editbay_gateway.templates import TemplateError, parse_template


def annotated_methods() -> set[str]:
    return {
        method.full_name
        for spec in SERVICES
        for method in spec.descriptor.methods
        if method.GetOptions().HasExtension(annotations_pb2.http)
    }


def test_every_annotated_rpc_has_a_route() -> None:
    routes = route_table()
    routed = {route.full_name for route in routes if route.kind is not Kind.DOWNLOAD}
    assert annotated_methods()
    assert routed == annotated_methods()


def test_routes_use_the_annotated_method_and_body() -> None:
    by_name = {r.method.name: r for r in route_table() if r.kind is not Kind.DOWNLOAD}
    assert by_name["CreateShow"].http_method == "POST"
    assert by_name["CreateShow"].body == "show"
    assert by_name["UpdateShow"].http_method == "PATCH"
    assert by_name["DeleteShow"].http_method == "DELETE"
    assert by_name["ApproveEditPlan"].body == "*"
    assert by_name["UploadTake"].kind is Kind.CLIENT_STREAM
    assert by_name["WatchRenderJob"].kind is Kind.SERVER_STREAM
    assert by_name["GetTake"].kind is Kind.UNARY


def test_no_two_routes_share_a_method_and_template() -> None:
    keys = [(r.http_method, r.template.regex.pattern) for r in route_table()]
    assert len(keys) == len(set(keys))


def test_template_binds_the_whole_resource_name() -> None:
    template = parse_template("/v1/{name=shows/*/episodes/*/editPlans/*}:approve")
    assert template.verb == "approve"
    assert template.match("/v1/shows/a/episodes/b/editPlans/c:approve") == {
        "name": "shows/a/episodes/b/editPlans/c"
    }
    assert template.match("/v1/shows/a/episodes/b/editPlans/c") is None
    assert template.match("/v1/shows/a/episodes/b/editPlans/c:reject") is None
    assert template.match("/v1/shows/a/editPlans/c:approve") is None


def test_nested_field_variable_and_suffix() -> None:
    template = parse_template("/v1/{show.name=shows/*}")
    assert template.match("/v1/shows/s1") == {"show.name": "shows/s1"}
    upload = parse_template("/v1/{parent=shows/*/episodes/*}/takes:upload")
    assert upload.match("/v1/shows/s/episodes/e/takes:upload") == {"parent": "shows/s/episodes/e"}
    assert upload.display_path == "/v1/shows/{show}/episodes/{episode}/takes:upload"
    assert [p.name for p in upload.display_params] == ["show", "episode"]


def test_plain_variable_and_double_wildcard() -> None:
    plain = parse_template("/v1/{name}")
    assert plain.match("/v1/abc") == {"name": "abc"}
    assert plain.match("/v1/a/b") is None
    deep = parse_template("/v1/{path=files/**}:get")
    assert deep.match("/v1/files/a/b/c:get") == {"path": "files/a/b/c"}


@pytest.mark.parametrize("bad", ["v1/shows", "/v1/{name=shows/*", "/v1//x", "/v1/x:1bad"])
def test_malformed_templates_are_refused(bad: str) -> None:
    with pytest.raises(TemplateError):
        parse_template(bad)


def test_router_tells_verbs_from_resource_ids() -> None:
    router = Router(route_table())
    found, _ = router.find("GET", "/v1/shows/s/episodes/e/editPlans/p:watch")
    assert found is not None and found.route.method.name == "WatchEditPlan"
    found, _ = router.find("GET", "/v1/shows/s/episodes/e/editPlans/p")
    assert found is not None and found.route.method.name == "GetEditPlan"
    found, _ = router.find("GET", "/v1/shows/s/episodes/e/renderJobs/r:download")
    assert found is not None and found.route.kind is Kind.DOWNLOAD
    found, _ = router.find("GET", "/v1/shows/s/episodes/e/script")
    assert found is not None and found.route.method.name == "GetScript"
    assert found.path_values == {"name": "shows/s/episodes/e/script"}


def test_router_reports_allowed_methods() -> None:
    router = Router(route_table())
    found, allowed = router.find("PUT", "/v1/shows/s")
    assert found is None
    assert set(allowed) == {"GET", "PATCH", "DELETE"}
    found, allowed = router.find("GET", "/v1/nothing/here")
    assert found is None and allowed == []
