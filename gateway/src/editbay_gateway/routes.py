"""The route table, derived from the services' ``google.api.http`` annotations."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from google.api import annotations_pb2, http_pb2
from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message

from editbay_gateway.services import SERVICES, ServiceSpec, service
from editbay_gateway.templates import PathTemplate, parse_template


class Kind(StrEnum):
    UNARY = "unary"
    SERVER_STREAM = "server_stream"  # served as server-sent events
    CLIENT_STREAM = "client_stream"  # served as a multipart/form-data upload
    DOWNLOAD = "download"  # a gateway route: GetRenderJob, then the output file


@dataclass(frozen=True)
class Route:
    service: ServiceSpec
    method: MethodDescriptor
    http_method: str
    template: PathTemplate
    body: str  # "" (no body), "*" (the whole request) or a field name
    kind: Kind

    @property
    def rpc_path(self) -> str:
        return f"/{self.service.descriptor.full_name}/{self.method.name}"

    @property
    def full_name(self) -> str:
        return self.method.full_name

    @property
    def input_class(self) -> type[Message]:
        return message_factory.GetMessageClass(self.method.input_type)

    @property
    def output_class(self) -> type[Message]:
        return message_factory.GetMessageClass(self.method.output_type)

    @property
    def operation_id(self) -> str:
        if self.kind is Kind.DOWNLOAD:
            return "DownloadRenderOutput"
        return self.method.name


DOWNLOAD_TEMPLATE = "/v1/{name=shows/*/episodes/*/renderJobs/*}:download"


def route_table(services: Iterable[ServiceSpec] = SERVICES) -> list[Route]:
    """Every HTTP binding of every RPC, plus the gateway's own download route."""
    routes = [route for spec in services for route in _service_routes(spec)]
    renderer = service("renderer")
    routes.append(
        Route(
            service=renderer,
            method=renderer.descriptor.methods_by_name["GetRenderJob"],
            http_method="GET",
            template=parse_template(DOWNLOAD_TEMPLATE),
            body="",
            kind=Kind.DOWNLOAD,
        )
    )
    return routes


def _service_routes(spec: ServiceSpec) -> Iterator[Route]:
    for method in spec.descriptor.methods:
        options = method.GetOptions()
        if not options.HasExtension(annotations_pb2.http):
            continue
        rule = options.Extensions[annotations_pb2.http]
        for binding in (rule, *rule.additional_bindings):
            http_method, template = _pattern(binding)
            yield Route(
                service=spec,
                method=method,
                http_method=http_method,
                template=parse_template(template),
                body=binding.body,
                kind=_kind(method),
            )


def _pattern(rule: http_pb2.HttpRule) -> tuple[str, str]:
    which = rule.WhichOneof("pattern")
    if which is None:
        raise ValueError("http rule without a pattern")
    if which == "custom":
        return rule.custom.kind.upper(), rule.custom.path
    return which.upper(), getattr(rule, which)


def _kind(method: MethodDescriptor) -> Kind:
    if method.client_streaming and method.server_streaming:
        raise ValueError(f"{method.full_name}: bidirectional streams have no HTTP mapping")
    if method.client_streaming:
        return Kind.CLIENT_STREAM
    if method.server_streaming:
        return Kind.SERVER_STREAM
    return Kind.UNARY


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_values: dict[str, str]


class Router:
    """Finds the route of a request: templates are tried in table order."""

    def __init__(self, routes: list[Route]) -> None:
        self.routes = routes

    def find(self, http_method: str, path: str) -> tuple[RouteMatch | None, list[str]]:
        """The matching route, or None and the methods the path allows (for a 405)."""
        allowed: list[str] = []
        for route in self.routes:
            values = route.template.match(path)
            if values is None:
                continue
            if route.http_method == http_method.upper():
                return RouteMatch(route, values), []
            allowed.append(route.http_method)
        return None, allowed
