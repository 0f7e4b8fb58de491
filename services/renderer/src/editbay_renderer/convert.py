"""Database rows to API messages."""

from __future__ import annotations

from editbay.renderer.v1 import renderer_service_pb2 as pb
from editbay_common.protoconv import timestamp
from editbay_renderer.jobs import job_name
from editbay_renderer.models import RenderJobRow


def job_to_proto(row: RenderJobRow, *, output_uri: str | None = None) -> pb.RenderJob:
    """The API view of a job; ``output_uri`` replaces the stored URI (a fresh presigned one)."""
    job = pb.RenderJob(
        name=job_name(row.parent, row.id),
        edit_plan=row.edit_plan,
        preset=row.preset,
        state=pb.RenderJob.State.Value(row.state),
        progress_percent=row.progress_percent,
        attempt_count=row.attempt_count,
        max_attempts=row.max_attempts,
        failure_reason=row.failure_reason or "",
        expected_duration_seconds=row.expected_duration_s,
        create_time=timestamp(row.create_time),
        update_time=timestamp(row.update_time),
    )
    if row.end_time is not None:
        job.end_time.CopyFrom(timestamp(row.end_time))
    if row.output_key:
        job.output.CopyFrom(
            pb.RenderOutput(
                storage_key=row.output_key,
                uri=output_uri or row.output_uri or "",
                duration_seconds=row.output_duration_s or 0.0,
                size_bytes=row.output_size_bytes or 0,
                width=row.output_width or 0,
                height=row.output_height or 0,
            )
        )
    return job
