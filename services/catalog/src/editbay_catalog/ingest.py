"""Take ingest: receive the upload, verify it is media, analyse it, store it, record it.

Order matters for "nothing half-stored":

1. the first message's metadata is checked, the episode must be live and the scene/take numbers
   free (ALREADY_EXISTS before a byte is stored); only then is the upload accepted and the
   client sends the bytes (``editbay_common.upload_calls``);
2. the bytes go to a temporary file in the scratch folder (size limit enforced while receiving);
3. ``media.probe.inspect`` probes and strictly decodes it (MEDIA_REJECTED otherwise);
4. silence map, loudness, thumbnail, and the preview proxy with the contact sheet (one FFmpeg
   run) go concurrently;
5. the file and its previews are stored under server-made keys;
6. one transaction inserts the take and its ``take.ingested`` outbox row.

If anything fails after step 5 (including cancellation) the stored objects are deleted; the
temporary files are removed in every case.

A failed silence map, loudness measurement or thumbnail records the take FAILED with the reason
(the take and its file are kept, so the failure can be seen). The proxy and the contact sheet are
only previews: neither planning nor rendering reads them, and the proxy, a full re-encode, can
run out of time on a busy machine with nothing wrong in the footage. When they cannot be made
the take is still READY with their keys empty (as for a take without video) and the error is
logged. A preview that was made must be stored, though: a storage error fails the upload as it
would for the take's own file.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from editbay.catalog.v1 import catalog_service_pb2 as pb
from editbay_catalog import faults, models
from editbay_catalog.filenames import content_type, display_name, resolve_numbers, stored_suffix
from editbay_catalog.resources import EPISODE, episode_name, parse
from editbay_catalog.store import request_id_reused
from editbay_catalog.takes import TakeAlreadyExists, TakeSlot, TakeStore
from editbay_common.ids import new_id, utc_now
from editbay_common.media import loudness, probe, silence, thumbnails
from editbay_common.media.limits import DEFAULT_LIMITS, MediaLimits, MediaRejected
from editbay_common.storage import Storage, new_key
from editbay_common.upload_calls import UploadCall
from editbay_common.uploads import ReceivedUpload, UploadTooLarge, receive_chunks

log = logging.getLogger(__name__)

MAX_REQUEST_ID_CHARS = 100
THUMBNAIL_AT_S = 1.0  # a moment in, past a fade-in or a slate's first frame


@dataclass(frozen=True)
class Preview:
    """A file made of a take's video at ingest for people to look at, stored under its own key."""

    field: str  # its key's name in the stored analysis (and in TakeAnalysis)
    folder: str  # of its storage key
    suffix: str
    mime: str
    step: str  # the analysis step that makes it
    required: bool  # whether failing to make it fails the take (see the module docstring)


# The proxy and the contact sheet come from one FFmpeg run (one decode of the take).
PREVIEWS = {
    "thumbnail": Preview("thumbnail_key", "thumbnails", ".jpg", "image/jpeg", "thumbnail", True),
    "proxy": Preview("proxy_key", "proxies", ".mp4", "video/mp4", "previews", False),
    "contact_sheet": Preview(
        "contact_sheet_key", "contact-sheets", ".jpg", "image/jpeg", "previews", False
    ),
}
OPTIONAL_STEPS = {p.step for p in PREVIEWS.values() if not p.required}


@dataclass(frozen=True)
class Analysis:
    record: dict[str, Any]  # stored as Take.analysis (without the previews' keys)
    previews: dict[str, Path]  # the previews made (names of PREVIEWS), in the scratch folder
    failure: str = ""  # set when a required step failed: the take is recorded FAILED


class Ingest:
    def __init__(
        self,
        takes: TakeStore,
        storage: Storage,
        scratch_dir: Path,
        *,
        max_upload_bytes: int,
        on_commit: Callable[[], None] = lambda: None,
    ) -> None:
        self.takes = takes
        self.storage = storage
        self.scratch_dir = scratch_dir
        self.max_upload_bytes = max_upload_bytes
        self.limits: MediaLimits = replace(DEFAULT_LIMITS, max_file_bytes=max_upload_bytes)
        self.on_commit = on_commit

    async def upload(self, call: UploadCall) -> pb.Take:
        """Run one UploadTake stream to its READY (or FAILED) take."""
        metadata = await first_metadata(call)
        ids = parse(metadata.parent, EPISODE, "metadata.parent")
        filename = _filename(metadata.filename)
        request_id = _request_id(metadata.request_id)
        earlier = await self.takes.by_request_id(request_id)
        if earlier is not None:
            _check_same_parent(earlier, metadata.parent)
            return earlier  # a retried upload: the first result, without reading the bytes
        scene, take = _numbers(metadata, filename)
        slot = await self.takes.reserve(ids["show"], ids["episode"], scene, take)
        await call.accept()
        received = await self._receive(call)
        try:
            return await self._ingest(slot, filename, request_id, received)
        finally:
            await asyncio.to_thread(received.path.unlink, missing_ok=True)

    async def _receive(self, requests: UploadCall) -> ReceivedUpload:
        try:
            return await receive_chunks(
                chunks(requests), self.scratch_dir, max_bytes=self.max_upload_bytes
            )
        except UploadTooLarge as error:
            raise faults.invalid(
                "chunk",
                f"the upload is larger than the limit of {error.limit} bytes",
                reason="UPLOAD_TOO_LARGE",
                limit_bytes=error.limit,
            ) from None

    async def _ingest(
        self, slot: TakeSlot, filename: str, request_id: str, received: ReceivedUpload
    ) -> pb.Take:
        try:
            info = await probe.inspect(received.path, self.limits)
        except MediaRejected as error:
            raise faults.invalid(
                "chunk", error.message, reason="MEDIA_REJECTED", media_reason=error.reason
            ) from None
        analysis = await analyse(received.path, info, self.scratch_dir)
        suffix = stored_suffix(info.container, filename)
        key = new_key("takes", suffix)
        keys = {
            name: new_key(PREVIEWS[name].folder, PREVIEWS[name].suffix)
            for name in analysis.previews
        }
        stored: list[str] = []
        try:
            await self._store(key, received.path, content_type(suffix), stored)
            for name, path in analysis.previews.items():
                await self._store(keys[name], path, PREVIEWS[name].mime, stored)
            now = utc_now()
            row = models.Take(
                id=new_id(),
                show_id=slot.show_id,
                episode_id=slot.episode_id,
                scene_number=slot.scene_number,
                take_number=slot.take_number,
                original_filename=filename,
                state="FAILED" if analysis.failure else "READY",
                failure_reason=analysis.failure,
                storage_key=key,
                size_bytes=received.size_bytes,
                sha256=received.sha256,
                media=info.to_dict(),
                analysis={**analysis.record, **preview_keys(keys)},
                request_id=request_id or None,
                create_time=now,
                update_time=now,
            )
            take = await self._insert(row, request_id)
        except BaseException:
            await self._delete(stored)
            raise
        finally:
            await asyncio.to_thread(_unlink, analysis.previews.values())
        if take.storage_key != key:  # a concurrent retry with the same request id won
            await self._delete(stored)
        else:
            self.on_commit()
        return take

    async def _store(self, key: str, path: Path, mime: str, stored: list[str]) -> None:
        stored.append(key)  # before the upload: a half-written object is deleted too
        await self.storage.put_file(key, path, content_type=mime)

    async def _insert(self, row: models.Take, request_id: str) -> pb.Take:
        try:
            return await self.takes.insert(row)
        except TakeAlreadyExists:
            earlier = await self.takes.by_request_id(request_id)
            if earlier is not None:
                _check_same_parent(earlier, episode_name(row.show_id, row.episode_id))
                return earlier
            # Lost the race for the numbers: report the take that won, as ``reserve`` would.
            await self.takes.reserve(row.show_id, row.episode_id, row.scene_number, row.take_number)
            # The winner was deleted meanwhile; the unique index still said no.
            raise faults.exists(
                "take",
                f"scene {row.scene_number} take {row.take_number}",
                "another upload took these scene and take numbers; try again",
            ) from None

    async def _delete(self, keys: list[str]) -> None:
        for key in keys:
            try:
                await asyncio.shield(self.storage.delete(key))
            except Exception:
                log.exception("could not delete stored object %s after a failed ingest", key)


async def first_metadata(call: UploadCall) -> pb.TakeUploadMetadata:
    """The metadata the first message must carry."""
    first = await call.first()
    if first is None or first.WhichOneof("payload") != "metadata":
        raise faults.invalid("metadata", "the first message of an upload must carry the metadata")
    return first.metadata


async def chunks(requests: UploadCall) -> AsyncIterator[bytes]:
    """The file's bytes from the messages after the metadata."""
    async for request in requests:
        if request.WhichOneof("payload") == "metadata":
            raise faults.invalid("metadata", "only the first message may carry the metadata")
        yield request.chunk


async def analyse(path: Path, info: probe.MediaInfo, scratch_dir: Path) -> Analysis:
    """Silence map and loudness (with audio), thumbnail, proxy and contact sheet (with video),
    all concurrently."""
    files = {name: scratch_dir / f"{name}-{new_id()}{p.suffix}" for name, p in PREVIEWS.items()}
    steps: dict[str, Any] = {}
    if info.audio is not None:
        steps["silence"] = silence.silence_map(path, duration_s=info.duration_s)
        steps["loudness"] = loudness.measure_loudness(path)
    if info.video is not None:
        at_s = min(THUMBNAIL_AT_S, info.duration_s / 2)
        steps["thumbnail"] = _made(thumbnails.thumbnail(path, at_s, files["thumbnail"]))
        steps["previews"] = _made(
            thumbnails.make_previews(path, files["proxy"], files["contact_sheet"])
        )
    try:
        results = await asyncio.gather(*steps.values(), return_exceptions=True)
        for result in results:
            if isinstance(result, asyncio.CancelledError):
                raise result
    except BaseException:
        _unlink(files.values())
        raise
    outcome = dict(zip(steps, results, strict=True))
    failures = [
        f"{name}: {result}"
        for name, result in outcome.items()
        if isinstance(result, BaseException) and name not in OPTIONAL_STEPS
    ]
    for name, result in outcome.items():
        if isinstance(result, BaseException):
            log.error("take analysis step %s failed", name, exc_info=result)
    record: dict[str, Any] = {}
    if isinstance(outcome.get("silence"), silence.SilenceMap):
        record["silence"] = outcome["silence"].to_dict()
    if isinstance(outcome.get("loudness"), loudness.Loudness):
        record["loudness"] = outcome["loudness"].to_dict()
    made = {
        name: f
        for name, f in files.items()
        if outcome.get(PREVIEWS[name].step) is True and f.exists()
    }
    _unlink(f for name, f in files.items() if name not in made)
    return Analysis(record, made, "; ".join(failures)[:2000])


def preview_keys(keys: dict[str, str]) -> dict[str, str]:
    """Every preview's key field for the stored analysis: empty for the previews not made."""
    return {p.field: keys.get(name, "") for name, p in PREVIEWS.items()}


async def _made(making: Awaitable[object]) -> bool:
    """True once ``making`` has written its files."""
    await making
    return True


def _unlink(paths: Iterable[Path]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)


def _check_same_parent(earlier: pb.Take, parent: str) -> None:
    """A request id names one upload: reused for another episode, it is a client's mistake."""
    if not earlier.name.startswith(f"{parent}/takes/"):
        episode = earlier.name.rsplit("/takes/", 1)[0]
        raise request_id_reused("metadata.request_id", episode)


def _filename(value: str) -> str:
    name = display_name(value.strip())
    if not name:
        raise faults.invalid("metadata.filename", "the file name is required")
    return name


def _request_id(value: str) -> str:
    if len(value) > MAX_REQUEST_ID_CHARS:
        raise faults.invalid(
            "metadata.request_id", f"must be at most {MAX_REQUEST_ID_CHARS} characters"
        )
    return value


def _numbers(metadata: pb.TakeUploadMetadata, filename: str) -> tuple[int, int | None]:
    """Scene and take number (None: the next free take number); explicit fields win."""
    if metadata.scene_number < 0:
        raise faults.invalid("metadata.scene_number", "must be positive")
    if metadata.take_number < 0:
        raise faults.invalid("metadata.take_number", "must be positive")
    numbers = resolve_numbers(filename, metadata.scene_number, metadata.take_number)
    if numbers.scene is None:
        raise faults.invalid(
            "metadata.scene_number",
            f"the file name {filename!r} does not say which scene it records (like S02_T03.mp4);"
            " set scene_number",
        )
    return numbers.scene, numbers.take
