"""The gRPC services the gateway fronts, and where each one is reached."""

from __future__ import annotations

from dataclasses import dataclass

from google.protobuf.descriptor import ServiceDescriptor

from editbay.catalog.v1 import catalog_service_pb2
from editbay.planner.v1 import planner_service_pb2
from editbay.renderer.v1 import renderer_service_pb2
from editbay.training.v1 import training_service_pb2
from editbay_common.settings import Settings


@dataclass(frozen=True)
class ServiceSpec:
    """One backend: its short name (also the OpenAPI tag) and its service descriptor."""

    key: str
    descriptor: ServiceDescriptor

    def address(self, settings: Settings) -> str:
        return str(getattr(settings, f"{self.key}_addr"))


SERVICES: tuple[ServiceSpec, ...] = (
    ServiceSpec("catalog", catalog_service_pb2.DESCRIPTOR.services_by_name["CatalogService"]),
    ServiceSpec("planner", planner_service_pb2.DESCRIPTOR.services_by_name["PlannerService"]),
    ServiceSpec("renderer", renderer_service_pb2.DESCRIPTOR.services_by_name["RendererService"]),
    ServiceSpec("training", training_service_pb2.DESCRIPTOR.services_by_name["TrainingService"]),
)


def service(key: str) -> ServiceSpec:
    for spec in SERVICES:
        if spec.key == key:
            return spec
    raise KeyError(key)
