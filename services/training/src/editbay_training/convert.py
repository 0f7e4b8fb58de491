"""Rows to protobuf messages."""

from __future__ import annotations

from editbay.training.v1 import training_service_pb2 as pb
from editbay_common.protoconv import timestamp
from editbay_training.models import ReferenceVideo, StyleProfile
from editbay_training.style import VideoStyle


def video_style(style: VideoStyle, *, with_cuts: bool) -> pb.VideoStyle:
    return pb.VideoStyle(
        duration_seconds=style.duration_s,
        cut_count=len(style.cut_times_s) if with_cuts else 0,
        cut_times_seconds=style.cut_times_s if with_cuts else [],
        cuts_per_minute=style.cuts_per_minute,
        mean_shot_seconds=style.mean_shot_s,
        median_shot_seconds=style.median_shot_s,
        p10_shot_seconds=style.p10_shot_s,
        p90_shot_seconds=style.p90_shot_s,
        integrated_loudness_lufs=style.integrated_lufs,
        loudness_range_lu=style.loudness_range_lu,
    )


def reference_video(row: ReferenceVideo) -> pb.ReferenceVideo:
    message = pb.ReferenceVideo(
        name=row.name,
        original_filename=row.original_filename,
        storage_key=row.storage_key,
        state=pb.ReferenceVideo.State.Value(row.state),
        progress_percent=row.progress_percent,
        failure_reason=row.failure_reason,
        create_time=timestamp(row.create_time),
        update_time=timestamp(row.update_time),
    )
    if row.analysis is not None:
        message.analysis.CopyFrom(video_style(VideoStyle.from_dict(row.analysis), with_cuts=True))
    return message


def style_profile(row: StyleProfile) -> pb.StyleProfile:
    pooled = VideoStyle.from_dict(row.style)
    message = pb.StyleProfile(
        name=f"shows/{row.show}/styleProfile",
        reference_video_count=row.reference_video_count,
        style=video_style(pooled, with_cuts=False),
        update_time=timestamp(row.update_time),
    )
    message.style.cut_count = int(row.style.get("cut_count", 0))
    return message
