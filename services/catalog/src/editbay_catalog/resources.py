"""Resource names, etags, and the conversion of rows to their protobuf messages."""

from __future__ import annotations

import hashlib
import math
from typing import Any

from editbay.catalog.v1 import catalog_service_pb2 as pb
from editbay_catalog import models
from editbay_common import names
from editbay_common.protoconv import timestamp

DOMAIN = "catalog.editbay.dev"

SHOW = "shows/{show}"
EPISODE = "shows/{show}/episodes/{episode}"
SCRIPT = "shows/{show}/episodes/{episode}/script"
SCENE = "shows/{show}/episodes/{episode}/scenes/{scene}"
TAKE = "shows/{show}/episodes/{episode}/takes/{take}"


def parse(name: str, pattern: str, field: str) -> dict[str, str]:
    """Parse a resource name; INVALID_ARGUMENT naming ``field`` when it does not fit."""
    return names.parse(name, pattern, field=field, domain=DOMAIN)


def etag(name: str, revision: int) -> str:
    """The etag of a resource at one revision: changes with every change of the resource."""
    digest = hashlib.sha256(f"{name}\x00{revision}".encode()).hexdigest()[:20]
    return f'"{digest}"'


def show_name(show_id: str) -> str:
    return f"shows/{show_id}"


def episode_name(show_id: str, episode_id: str) -> str:
    return f"shows/{show_id}/episodes/{episode_id}"


def take_name(show_id: str, episode_id: str, take_id: str) -> str:
    return f"{episode_name(show_id, episode_id)}/takes/{take_id}"


def show_proto(row: models.Show) -> pb.Show:
    name = show_name(row.id)
    return pb.Show(
        name=name,
        display_name=row.display_name,
        description=row.description,
        create_time=timestamp(row.create_time),
        update_time=timestamp(row.update_time),
        delete_time=timestamp(row.delete_time),
        etag=etag(name, row.revision),
    )


def episode_proto(row: models.Episode) -> pb.Episode:
    name = episode_name(row.show_id, row.id)
    message = pb.Episode(
        name=name,
        display_name=row.display_name,
        description=row.description,
        create_time=timestamp(row.create_time),
        update_time=timestamp(row.update_time),
        delete_time=timestamp(row.delete_time),
        etag=etag(name, row.revision),
    )
    if row.final_render_job:
        message.final_video.CopyFrom(
            pb.FinalVideo(
                render_job=row.final_render_job,
                storage_key=row.final_storage_key or "",
                duration_seconds=row.final_duration_s or 0.0,
                render_time=timestamp(row.final_render_time),
            )
        )
    return message


def script_proto(row: models.Script) -> pb.Script:
    name = f"{episode_name(row.show_id, row.episode_id)}/script"
    return pb.Script(
        name=name,
        text=row.text,
        scene_count=row.scene_count,
        update_time=timestamp(row.update_time),
        etag=etag(name, row.revision),
    )


def scene_proto(row: models.Scene, ready_take_count: int) -> pb.Scene:
    return pb.Scene(
        name=f"{episode_name(row.show_id, row.episode_id)}/scenes/{row.number}",
        number=row.number,
        heading=row.heading,
        text=row.text,
        ready_take_count=ready_take_count,
    )


def take_proto(row: models.Take) -> pb.Take:
    return pb.Take(
        name=take_name(row.show_id, row.episode_id, row.id),
        scene_number=row.scene_number,
        take_number=row.take_number,
        original_filename=row.original_filename,
        state=pb.Take.State.Value(row.state),
        failure_reason=row.failure_reason,
        storage_key=row.storage_key,
        size_bytes=row.size_bytes,
        sha256=row.sha256,
        media=media_facts(row.media),
        analysis=take_analysis(row.analysis),
        create_time=timestamp(row.create_time),
        update_time=timestamp(row.update_time),
        delete_time=timestamp(row.delete_time),
    )


def media_facts(media: dict[str, Any]) -> pb.MediaFacts:
    """MediaFacts from a stored ``MediaInfo.to_dict()``."""
    video = media.get("video") or {}
    audio = media.get("audio") or {}
    return pb.MediaFacts(
        container=media.get("container", ""),
        duration_seconds=float(media.get("duration_s") or 0.0),
        video_codec=video.get("codec", ""),
        width=int(video.get("width") or 0),
        height=int(video.get("height") or 0),
        frame_rate=float(video.get("fps") or 0.0),
        audio_codec=audio.get("codec", ""),
        audio_channels=int(audio.get("channels") or 0),
        audio_sample_rate=int(audio.get("sample_rate") or 0),
        rotation=int(video.get("rotation") or 0),
        variable_frame_rate=bool(video.get("variable_frame_rate")),
        keyframe_interval_seconds=float(video.get("keyframe_interval_s") or 0.0),
    )


def take_analysis(analysis: dict[str, Any]) -> pb.TakeAnalysis:
    """TakeAnalysis from the stored analysis (see ``ingest.analyse``); rows stored before a
    field existed read it as empty."""
    silence = analysis.get("silence") or {}
    message = pb.TakeAnalysis(
        speech=[_interval(i) for i in silence.get("speech", [])],
        pauses=[_interval(i) for i in silence.get("pauses", [])],
        thumbnail_key=analysis.get("thumbnail_key") or "",
        proxy_key=analysis.get("proxy_key") or "",
        contact_sheet_key=analysis.get("contact_sheet_key") or "",
    )
    loudness = analysis.get("loudness")
    if loudness:  # absent for takes without audio
        # JSON has no infinity: digital silence was stored as null and reads back as -inf.
        message.integrated_loudness_lufs = _db(loudness.get("integrated_lufs"))
        message.loudness_range_lu = float(loudness.get("range_lu") or 0.0)
        message.true_peak_dbtp = _db(loudness.get("true_peak_dbtp"))
        message.clipped = bool(loudness.get("clipped", False))
    return message


def _interval(item: dict[str, float]) -> pb.TimeInterval:
    return pb.TimeInterval(start_seconds=item["start_s"], end_seconds=item["end_s"])


def _db(value: float | None) -> float:
    return -math.inf if value is None else float(value)
