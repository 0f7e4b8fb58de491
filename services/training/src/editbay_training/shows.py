"""What training needs from the catalog: does a show exist? Read over gRPC."""

from __future__ import annotations

from typing import Protocol

import grpc

from editbay.catalog.v1 import catalog_service_pb2 as catalog_pb
from editbay.catalog.v1 import catalog_service_pb2_grpc as catalog_grpc
from editbay_common.clients import open_channel
from editbay_common.errors import ServiceError, not_found

DOMAIN = "training.editbay.dev"


class ShowReader(Protocol):
    async def require_show(self, show: str) -> None:
        """Raise NOT_FOUND (SHOW_NOT_FOUND) unless ``shows/{show}`` exists and is live."""


class GrpcShowReader:
    def __init__(self, address: str, timeout_s: float) -> None:
        service = catalog_pb.DESCRIPTOR.services_by_name["CatalogService"]
        self.channel = open_channel(address, [service], default_timeout_s=timeout_s)
        self.stub = catalog_grpc.CatalogServiceStub(self.channel)

    async def require_show(self, show: str) -> None:
        name = f"shows/{show}"
        try:
            reply = await self.stub.GetShow(catalog_pb.GetShowRequest(name=name))
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                raise not_found("show", name, domain=DOMAIN) from None
            raise ServiceError(
                grpc.StatusCode.UNAVAILABLE,
                "CATALOG_UNAVAILABLE",
                f"cannot check {name} with the catalog: {error.code().name}",
                domain=DOMAIN,
            ) from None
        if reply.HasField("delete_time"):
            raise not_found("show", name, domain=DOMAIN)

    async def close(self) -> None:
        await self.channel.close()
