"""What the planner reads from the catalog, behind a small interface.

``CatalogReader`` returns plain data (``editbay_planner.facts``); ``GrpcCatalogReader`` is the
production implementation over the catalog's gRPC API. The catalog's errors become the
planner's own: NOT_FOUND -> NOT_FOUND (EPISODE_NOT_FOUND), UNAVAILABLE or a missed deadline ->
UNAVAILABLE (CATALOG_UNAVAILABLE, retry later), anything else -> INTERNAL (CATALOG_ERROR).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

import grpc

from editbay.catalog.v1 import catalog_service_pb2 as cpb
from editbay.catalog.v1 import catalog_service_pb2_grpc as cpb_grpc
from editbay_common.clients import open_channel
from editbay_common.errors import ServiceError, not_found
from editbay_planner.facts import EpisodeFacts, Interval, SceneFacts, TakeFacts
from editbay_planner.resources import DOMAIN

PAGE_SIZE = 1000
T = TypeVar("T")


class CatalogReader(Protocol):
    """The catalog as the planner sees it. Every method raises ``ServiceError`` (see above)."""

    async def get_episode(self, name: str) -> EpisodeFacts: ...

    async def list_scenes(self, episode: str) -> list[SceneFacts]:
        """The script's scenes in scene order; empty when the episode has no script."""
        ...

    async def list_ready_takes(self, episode: str) -> list[TakeFacts]:
        """The episode's READY takes (not deleted), by scene then take number."""
        ...

    async def close(self) -> None: ...


class GrpcCatalogReader:
    """``CatalogReader`` over ``editbay.catalog.v1.CatalogService``."""

    def __init__(self, channel: grpc.aio.Channel, *, owns_channel: bool = True) -> None:
        self._channel = channel
        self._owns_channel = owns_channel
        self._stub = cpb_grpc.CatalogServiceStub(channel)

    @classmethod
    def connect(cls, address: str, *, timeout_s: float) -> GrpcCatalogReader:
        service = cpb.DESCRIPTOR.services_by_name["CatalogService"]
        return cls(open_channel(address, [service], default_timeout_s=timeout_s))

    async def get_episode(self, name: str) -> EpisodeFacts:
        episode = await _call(self._stub.GetEpisode(cpb.GetEpisodeRequest(name=name)), name)
        if episode.HasField("delete_time"):
            raise not_found("episode", name, domain=DOMAIN)
        return EpisodeFacts(name=episode.name, display_name=episode.display_name)

    async def list_scenes(self, episode: str) -> list[SceneFacts]:
        async def fetch(token: str) -> tuple[list[Any], str]:
            request = cpb.ListScenesRequest(parent=episode, page_size=PAGE_SIZE, page_token=token)
            response = await _call(self._stub.ListScenes(request), episode)
            return list(response.scenes), response.next_page_token

        scenes = [
            SceneFacts(number=s.number, text=s.text, heading=s.heading) async for s in _pages(fetch)
        ]
        return sorted(scenes, key=lambda s: s.number)

    async def list_ready_takes(self, episode: str) -> list[TakeFacts]:
        async def fetch(token: str) -> tuple[list[Any], str]:
            request = cpb.ListTakesRequest(
                parent=episode, page_size=PAGE_SIZE, page_token=token, filter="state = READY"
            )
            response = await _call(self._stub.ListTakes(request), episode)
            return list(response.takes), response.next_page_token

        takes = [
            take_facts(t)
            async for t in _pages(fetch)
            if t.state == cpb.Take.READY and not t.HasField("delete_time")
        ]
        return sorted(takes, key=lambda t: (t.scene_number, t.take_number, t.name))

    async def close(self) -> None:
        if self._owns_channel:
            await self._channel.close()


def take_facts(take: cpb.Take) -> TakeFacts:
    """The plain data of a catalog Take."""
    analysis = take.analysis if take.HasField("analysis") else None
    return TakeFacts(
        name=take.name,
        scene_number=take.scene_number,
        take_number=take.take_number,
        storage_key=take.storage_key,
        duration_s=take.media.duration_seconds,
        speech=_intervals(analysis.speech) if analysis else (),
        pauses=_intervals(analysis.pauses) if analysis else (),
        integrated_lufs=analysis.integrated_loudness_lufs if analysis else None,
        true_peak_dbtp=analysis.true_peak_dbtp if analysis else None,
        clipped=analysis.clipped if analysis else False,
    )


def _intervals(spans: Any) -> tuple[Interval, ...]:
    return tuple(Interval(s.start_seconds, s.end_seconds) for s in spans)


async def _pages(fetch: Callable[[str], Awaitable[tuple[list[T], str]]]) -> AsyncIterator[T]:
    token = ""
    while True:
        items, token = await fetch(token)
        for item in items:
            yield item
        if not token:
            return


async def _call(call: Awaitable[T], episode: str) -> T:
    try:
        return await call
    except grpc.aio.AioRpcError as error:
        raise catalog_error(error, episode) from error


def catalog_error(error: grpc.aio.AioRpcError, episode: str) -> ServiceError:
    """The planner's error for a failed catalog call about ``episode``."""
    code = error.code()
    if code == grpc.StatusCode.NOT_FOUND:
        return not_found("episode", episode, domain=DOMAIN)
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return ServiceError(
            grpc.StatusCode.UNAVAILABLE,
            "CATALOG_UNAVAILABLE",
            f"the catalog did not answer ({code.name}); try again",
            domain=DOMAIN,
            catalog_code=code.name,
        )
    return ServiceError(
        grpc.StatusCode.INTERNAL,
        "CATALOG_ERROR",
        f"the catalog failed ({code.name}): {error.details()}",
        domain=DOMAIN,
        catalog_code=code.name,
    )
