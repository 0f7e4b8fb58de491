"""The TrainingService gRPC API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
from sqlalchemy.exc import IntegrityError

from editbay.training.v1 import training_service_pb2 as pb
from editbay.training.v1 import training_service_pb2_grpc as pb_grpc
from editbay_common import names, paging
from editbay_common.db import Database
from editbay_common.errors import ServiceError, invalid_argument, not_found
from editbay_common.ids import new_id, utc_now
from editbay_common.media.limits import MediaLimits, MediaRejected
from editbay_common.media.probe import inspect
from editbay_common.storage import Storage, new_key
from editbay_common.upload_calls import UploadCall, serve_upload
from editbay_common.uploads import UploadTooLarge, receive_chunks
from editbay_training import convert, store
from editbay_training.models import ReferenceVideo, StyleProfile
from editbay_training.shows import DOMAIN, ShowReader

WATCH_POLL_S = 0.25
MAX_REQUEST_ID_CHARS = 128  # the column's width
# Container names from ffprobe to the suffix of the stored object.
SUFFIXES = {
    "mov,mp4,m4a,3gp,3g2,mj2": ".mp4",
    "matroska,webm": ".mkv",
    "avi": ".avi",
    "mpegts": ".ts",
}


class TrainingServicer(pb_grpc.TrainingServiceServicer):
    def __init__(
        self,
        db: Database,
        storage: Storage,
        shows: ShowReader,
        *,
        scratch: Path,
        max_upload_bytes: int,
        limits: MediaLimits,
        on_queued: Callable[[], None],
    ) -> None:
        self.db, self.storage, self.shows = db, storage, shows
        self.scratch, self.max_upload_bytes, self.limits = scratch, max_upload_bytes, limits
        self.on_queued = on_queued

    async def UploadReferenceVideo(
        self, request_iterator: AsyncIterator[pb.UploadReferenceVideoRequest], context
    ) -> pb.ReferenceVideo:
        return await serve_upload(request_iterator, context, self._upload)

    async def _upload(self, call: UploadCall) -> pb.ReferenceVideo:
        meta = await _first_metadata(call)
        show = names.parse(meta.parent, "shows/{show}", field="metadata.parent", domain=DOMAIN)
        show = show["show"]
        if not meta.filename:
            raise invalid_argument("metadata.filename", "is required", domain=DOMAIN)
        if len(meta.request_id) > MAX_REQUEST_ID_CHARS:
            raise invalid_argument(
                "metadata.request_id",
                f"must be at most {MAX_REQUEST_ID_CHARS} characters",
                domain=DOMAIN,
            )
        if meta.request_id:
            async with self.db.transaction() as session:
                existing = await store.find_by_request(session, show, meta.request_id)
            if existing is not None:
                return convert.reference_video(existing)
        await self.shows.require_show(show)
        await call.accept()
        received = await self._receive(call)
        try:
            row = await self._store(show, meta, received.path)
        finally:
            received.path.unlink(missing_ok=True)
        self.on_queued()
        return convert.reference_video(row)

    async def _receive(self, call: UploadCall):
        async def chunks() -> AsyncIterator[bytes]:
            async for message in call:
                if not message.HasField("chunk"):
                    raise invalid_argument(
                        "metadata", "only the first message may carry metadata", domain=DOMAIN
                    )
                yield message.chunk

        try:
            return await receive_chunks(chunks(), self.scratch, max_bytes=self.max_upload_bytes)
        except UploadTooLarge as error:
            raise invalid_argument(
                "chunk",
                str(error),
                domain=DOMAIN,
                reason="UPLOAD_TOO_LARGE",
                limit_bytes=self.max_upload_bytes,
            ) from None

    async def _store(self, show: str, meta, path: Path) -> ReferenceVideo:
        try:
            info = await inspect(path, self.limits)
        except MediaRejected as error:
            raise _rejected(error.reason, error.message) from None
        if info.video is None:
            raise _rejected("NO_VIDEO", "a reference video needs a video stream")
        key = new_key("references", SUFFIXES.get(info.container, ".bin"))
        await self.storage.put_file(key, path)
        now = utc_now()
        row = ReferenceVideo(
            id=new_id(),
            show=show,
            original_filename=meta.filename[:255],
            storage_key=key,
            state="QUEUED",
            progress_percent=0.0,
            failure_reason="",
            request_id=meta.request_id or None,
            create_time=now,
            update_time=now,
        )
        try:
            async with self.db.transaction() as session:
                store.queue_video(session, row)
        except IntegrityError:
            # A concurrent upload with the same request id was recorded first: its result.
            await self.storage.delete(key)
            if meta.request_id:
                async with self.db.transaction() as session:
                    earlier = await store.find_by_request(session, show, meta.request_id)
                if earlier is not None:
                    return earlier
            raise
        except BaseException:
            await self.storage.delete(key)
            raise
        return row

    async def GetReferenceVideo(self, request, context) -> pb.ReferenceVideo:
        return convert.reference_video(await self._get(request.name))

    async def _get(self, name: str) -> ReferenceVideo:
        ids = names.parse(name, "shows/{show}/referenceVideos/{reference_video}", domain=DOMAIN)
        async with self.db.transaction() as session:
            row = await store.get_video(session, ids["show"], ids["reference_video"])
        if row is None:
            raise not_found("reference_video", name, domain=DOMAIN)
        return row

    async def ListReferenceVideos(self, request, context) -> pb.ListReferenceVideosResponse:
        show = names.parse(request.parent, "shows/{show}", field="parent", domain=DOMAIN)["show"]
        page = paging.page(request.page_size, request.page_token, request.parent, domain=DOMAIN)
        async with self.db.transaction() as session:
            rows = await store.list_videos(session, show, page.offset, page.size + 1)
        return pb.ListReferenceVideosResponse(
            reference_videos=[convert.reference_video(r) for r in rows[: page.size]],
            next_page_token=page.next_token(min(len(rows), page.size), len(rows) > page.size),
        )

    async def WatchReferenceVideo(self, request, context) -> AsyncIterator[pb.ReferenceVideo]:
        last = None
        while True:
            row = await self._get(request.name)
            seen = (row.state, round(row.progress_percent, 1))
            if seen != last:
                last = seen
                yield convert.reference_video(row)
            if row.state in store.TERMINAL:
                return
            await asyncio.sleep(WATCH_POLL_S)

    async def GetStyleProfile(self, request, context) -> pb.StyleProfile:
        show = names.parse(request.name, "shows/{show}/styleProfile", domain=DOMAIN)["show"]
        async with self.db.transaction() as session:
            row = await session.get(StyleProfile, show)
        if row is None:
            raise ServiceError(
                grpc.StatusCode.NOT_FOUND,
                "STYLE_PROFILE_NOT_FOUND",
                f"{request.name} has no analysed reference video yet",
                domain=DOMAIN,
                name=request.name,
            )
        return convert.style_profile(row)


async def _first_metadata(call: UploadCall) -> pb.ReferenceVideoUploadMetadata:
    first = await call.first()
    if first is None or not first.HasField("metadata"):
        raise invalid_argument(
            "metadata", "the first message of an upload must carry the metadata", domain=DOMAIN
        )
    return first.metadata


def _rejected(reason: str, message: str) -> ServiceError:
    return invalid_argument(
        "file", message, domain=DOMAIN, reason="MEDIA_REJECTED", media_reason=reason
    )
