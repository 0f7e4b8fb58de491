from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class TakeIngested(_message.Message):
    __slots__ = ("take", "scene_number", "take_number", "storage_key", "duration_seconds")
    TAKE_FIELD_NUMBER: _ClassVar[int]
    SCENE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    TAKE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    STORAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    take: str
    scene_number: int
    take_number: int
    storage_key: str
    duration_seconds: float
    def __init__(self, take: _Optional[str] = ..., scene_number: _Optional[int] = ..., take_number: _Optional[int] = ..., storage_key: _Optional[str] = ..., duration_seconds: _Optional[float] = ...) -> None: ...

class PlanApproved(_message.Message):
    __slots__ = ("edit_plan", "version")
    EDIT_PLAN_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    edit_plan: str
    version: int
    def __init__(self, edit_plan: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class RenderRequested(_message.Message):
    __slots__ = ("render_job",)
    RENDER_JOB_FIELD_NUMBER: _ClassVar[int]
    render_job: str
    def __init__(self, render_job: _Optional[str] = ...) -> None: ...

class RenderPartRequested(_message.Message):
    __slots__ = ("render_job", "attempt_token", "part")
    RENDER_JOB_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PART_FIELD_NUMBER: _ClassVar[int]
    render_job: str
    attempt_token: str
    part: int
    def __init__(self, render_job: _Optional[str] = ..., attempt_token: _Optional[str] = ..., part: _Optional[int] = ...) -> None: ...

class RenderProgress(_message.Message):
    __slots__ = ("render_job", "attempt", "progress_percent")
    RENDER_JOB_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    render_job: str
    attempt: int
    progress_percent: float
    def __init__(self, render_job: _Optional[str] = ..., attempt: _Optional[int] = ..., progress_percent: _Optional[float] = ...) -> None: ...

class RenderSucceeded(_message.Message):
    __slots__ = ("render_job", "episode", "edit_plan", "storage_key", "duration_seconds")
    RENDER_JOB_FIELD_NUMBER: _ClassVar[int]
    EPISODE_FIELD_NUMBER: _ClassVar[int]
    EDIT_PLAN_FIELD_NUMBER: _ClassVar[int]
    STORAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    render_job: str
    episode: str
    edit_plan: str
    storage_key: str
    duration_seconds: float
    def __init__(self, render_job: _Optional[str] = ..., episode: _Optional[str] = ..., edit_plan: _Optional[str] = ..., storage_key: _Optional[str] = ..., duration_seconds: _Optional[float] = ...) -> None: ...

class RenderFailed(_message.Message):
    __slots__ = ("render_job", "reason", "attempts")
    RENDER_JOB_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    render_job: str
    reason: str
    attempts: int
    def __init__(self, render_job: _Optional[str] = ..., reason: _Optional[str] = ..., attempts: _Optional[int] = ...) -> None: ...

class ReferenceVideoQueued(_message.Message):
    __slots__ = ("reference_video",)
    REFERENCE_VIDEO_FIELD_NUMBER: _ClassVar[int]
    reference_video: str
    def __init__(self, reference_video: _Optional[str] = ...) -> None: ...
