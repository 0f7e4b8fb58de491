"""The gRPC face of the catalog: validate requests, call the stores, return messages."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import grpc

from editbay.catalog.v1 import catalog_service_pb2 as pb
from editbay.catalog.v1 import catalog_service_pb2_grpc as pb_grpc
from editbay_catalog import faults
from editbay_catalog.ingest import Ingest
from editbay_catalog.resources import DOMAIN, EPISODE, SCENE, SCRIPT, SHOW, TAKE, parse
from editbay_catalog.scripts import MAX_SCRIPT_CHARS, ScriptError, parse_script
from editbay_catalog.store import CatalogStore, ListQuery
from editbay_catalog.takes import TakeStore
from editbay_common import names, paging
from editbay_common.ids import new_id
from editbay_common.upload_calls import serve_upload

Context = grpc.aio.ServicerContext
MAX_DISPLAY_NAME_CHARS = 200
MAX_DESCRIPTION_CHARS = 10_000
MAX_REQUEST_ID_CHARS = 100
EDITABLE = ("display_name", "description")
ORDERABLE = {"create_time", "display_name"}
DEFAULT_ORDER = "create_time desc"
TAKE_STATES = {name for name in pb.Take.State.keys() if name != "STATE_UNSPECIFIED"}
# A scene number as a client writes it: ASCII digits that fit the int32 of the API (str.isdigit
# also accepts "²" and other Unicode digits, which int() then refuses).
_NUMBER = re.compile(r"[0-9]{1,9}")


class CatalogServicer(pb_grpc.CatalogServiceServicer):
    def __init__(self, store: CatalogStore, takes: TakeStore, ingest: Ingest) -> None:
        self.store = store
        self.takes = takes
        self.ingest = ingest

    # ---- shows --------------------------------------------------------------------------

    async def CreateShow(self, request: pb.CreateShowRequest, context: Context) -> pb.Show:
        show = request.show
        show_id = _new_id(request.show_id, "show_id")
        return await self.store.create_show(
            show_id,
            _display_name(show.display_name, "show.display_name"),
            _description(show.description, "show.description"),
            _request_id(request.request_id),
        )

    async def GetShow(self, request: pb.GetShowRequest, context: Context) -> pb.Show:
        return await self.store.get_show(parse(request.name, SHOW, "name")["show"])

    async def ListShows(
        self, request: pb.ListShowsRequest, context: Context
    ) -> pb.ListShowsResponse:
        query = _list_query(request, "shows")
        shows, token = await self.store.list_shows(query)
        return pb.ListShowsResponse(shows=shows, next_page_token=token)

    async def UpdateShow(self, request: pb.UpdateShowRequest, context: Context) -> pb.Show:
        show = request.show
        show_id = parse(show.name, SHOW, "show.name")["show"]
        changes = _changes(show, request.update_mask.paths, "show")
        return await self.store.update_show(show_id, changes, show.etag)

    async def DeleteShow(self, request: pb.DeleteShowRequest, context: Context) -> pb.Show:
        return await self.store.delete_show(parse(request.name, SHOW, "name")["show"], request.etag)

    async def UndeleteShow(self, request: pb.UndeleteShowRequest, context: Context) -> pb.Show:
        return await self.store.undelete_show(parse(request.name, SHOW, "name")["show"])

    # ---- episodes -----------------------------------------------------------------------

    async def CreateEpisode(self, request: pb.CreateEpisodeRequest, context: Context) -> pb.Episode:
        show_id = parse(request.parent, SHOW, "parent")["show"]
        episode = request.episode
        return await self.store.create_episode(
            show_id,
            _new_id(request.episode_id, "episode_id"),
            _display_name(episode.display_name, "episode.display_name"),
            _description(episode.description, "episode.description"),
            _request_id(request.request_id),
        )

    async def GetEpisode(self, request: pb.GetEpisodeRequest, context: Context) -> pb.Episode:
        ids = parse(request.name, EPISODE, "name")
        return await self.store.get_episode(ids["show"], ids["episode"])

    async def ListEpisodes(
        self, request: pb.ListEpisodesRequest, context: Context
    ) -> pb.ListEpisodesResponse:
        show_id = parse(request.parent, SHOW, "parent")["show"]
        query = _list_query(request, request.parent)
        episodes, token = await self.store.list_episodes(show_id, query)
        return pb.ListEpisodesResponse(episodes=episodes, next_page_token=token)

    async def UpdateEpisode(self, request: pb.UpdateEpisodeRequest, context: Context) -> pb.Episode:
        episode = request.episode
        ids = parse(episode.name, EPISODE, "episode.name")
        changes = _changes(episode, request.update_mask.paths, "episode")
        return await self.store.update_episode(ids["show"], ids["episode"], changes, episode.etag)

    async def DeleteEpisode(self, request: pb.DeleteEpisodeRequest, context: Context) -> pb.Episode:
        ids = parse(request.name, EPISODE, "name")
        return await self.store.delete_episode(ids["show"], ids["episode"], request.etag)

    # ---- script and scenes --------------------------------------------------------------

    async def GetScript(self, request: pb.GetScriptRequest, context: Context) -> pb.Script:
        ids = parse(request.name, SCRIPT, "name")
        return await self.store.get_script(ids["show"], ids["episode"])

    async def UpdateScript(self, request: pb.UpdateScriptRequest, context: Context) -> pb.Script:
        script = request.script
        ids = parse(script.name, SCRIPT, "script.name")
        for path in request.update_mask.paths:
            if path not in ("text", "*"):
                raise faults.invalid("update_mask", f"{path!r} cannot be updated; use 'text'")
        if len(script.text) > MAX_SCRIPT_CHARS:
            raise faults.invalid("script.text", f"must be at most {MAX_SCRIPT_CHARS} characters")
        try:
            scenes = parse_script(script.text)
        except ScriptError as error:
            raise faults.invalid("script.text", str(error), line=error.line) from None
        return await self.store.update_script(
            ids["show"], ids["episode"], script.text, scenes, script.etag
        )

    async def GetScene(self, request: pb.GetSceneRequest, context: Context) -> pb.Scene:
        ids = parse(request.name, SCENE, "name")
        number = _scene_number(
            ids["scene"], "name", f"scene {ids['scene']!r} is not a scene number"
        )
        return await self.store.get_scene(ids["show"], ids["episode"], number)

    async def ListScenes(
        self, request: pb.ListScenesRequest, context: Context
    ) -> pb.ListScenesResponse:
        ids = parse(request.parent, EPISODE, "parent")
        page = paging.page(
            request.page_size, request.page_token, "scenes", request.parent,
            default_size=100, domain=DOMAIN,
        )  # fmt: skip
        scenes, token = await self.store.list_scenes(ids["show"], ids["episode"], page)
        return pb.ListScenesResponse(scenes=scenes, next_page_token=token)

    # ---- takes --------------------------------------------------------------------------

    async def UploadTake(
        self, request_iterator: AsyncIterator[pb.UploadTakeRequest], context: Context
    ) -> pb.Take:
        return await serve_upload(request_iterator, context, self.ingest.upload)

    async def GetTake(self, request: pb.GetTakeRequest, context: Context) -> pb.Take:
        ids = parse(request.name, TAKE, "name")
        return await self.takes.get(ids["show"], ids["episode"], ids["take"])

    async def ListTakes(
        self, request: pb.ListTakesRequest, context: Context
    ) -> pb.ListTakesResponse:
        ids = parse(request.parent, EPISODE, "parent")
        filters = _take_filters(request.filter)
        page = paging.page(
            request.page_size, request.page_token, "takes", request.parent,
            repr(sorted(filters.items())), str(request.show_deleted),
            default_size=100, domain=DOMAIN,
        )  # fmt: skip
        query = ListQuery(page=page, filters=filters, show_deleted=request.show_deleted)
        takes, token = await self.takes.list(ids["show"], ids["episode"], query)
        return pb.ListTakesResponse(takes=takes, next_page_token=token)

    async def DeleteTake(self, request: pb.DeleteTakeRequest, context: Context) -> pb.Take:
        ids = parse(request.name, TAKE, "name")
        return await self.takes.delete(ids["show"], ids["episode"], ids["take"])


# ---- request validation ---------------------------------------------------------------------


def _new_id(value: str, field: str) -> str:
    """The client's id, validated, or a server-made one."""
    return names.check_id(value, field=field, domain=DOMAIN) if value else new_id()


def _display_name(value: str, field: str) -> str:
    value = value.strip()
    if not value:
        raise faults.invalid(field, "is required and must not be blank")
    if len(value) > MAX_DISPLAY_NAME_CHARS:
        raise faults.invalid(field, f"must be at most {MAX_DISPLAY_NAME_CHARS} characters")
    return value


def _description(value: str, field: str) -> str:
    if len(value) > MAX_DESCRIPTION_CHARS:
        raise faults.invalid(field, f"must be at most {MAX_DESCRIPTION_CHARS} characters")
    return value


def _request_id(value: str) -> str:
    if len(value) > MAX_REQUEST_ID_CHARS:
        raise faults.invalid("request_id", f"must be at most {MAX_REQUEST_ID_CHARS} characters")
    return value


def _changes(resource: Any, paths: list[str], prefix: str) -> dict[str, str]:
    """The fields an Update changes. An empty mask means every editable field that is set
    (AIP-134); ``*`` means all editable fields."""
    if not paths:
        fields = [f for f in EDITABLE if getattr(resource, f)]
    elif "*" in paths:
        fields = list(EDITABLE)
    else:
        for path in paths:
            if path not in EDITABLE:
                raise faults.invalid(
                    "update_mask", f"{path!r} cannot be updated; use {', '.join(EDITABLE)}"
                )
        fields = list(dict.fromkeys(paths))
    changes: dict[str, str] = {}
    for field in fields:
        value = getattr(resource, field)
        if field == "display_name":
            changes[field] = _display_name(value, f"{prefix}.display_name")
        else:
            changes[field] = _description(value, f"{prefix}.description")
    return changes


def _list_query(request: Any, scope: str) -> ListQuery:
    filters = paging.parse_filter(request.filter, {"display_name"}, domain=DOMAIN)
    field, descending = paging.parse_order_by(
        request.order_by, ORDERABLE, DEFAULT_ORDER, domain=DOMAIN
    )
    page = paging.page(
        request.page_size, request.page_token, scope, repr(sorted(filters.items())),
        f"{field} {descending}", str(request.show_deleted), domain=DOMAIN,
    )  # fmt: skip
    return ListQuery(page, filters, field, descending, request.show_deleted)


def _scene_number(text: str, field: str, problem: str) -> int:
    if not _NUMBER.fullmatch(text):
        raise faults.invalid(field, problem)
    return int(text)


def _take_filters(text: str) -> dict[str, Any]:
    raw = paging.parse_filter(text, {"scene_number", "state"}, domain=DOMAIN)
    filters: dict[str, Any] = {}
    if "scene_number" in raw:
        value = raw["scene_number"]
        filters["scene_number"] = _scene_number(
            value, "filter", f"scene_number must be a number, not {value!r}"
        )
    if "state" in raw:
        if raw["state"] not in TAKE_STATES:
            raise faults.invalid("filter", f"state must be one of {', '.join(sorted(TAKE_STATES))}")
        filters["state"] = raw["state"]
    return filters
