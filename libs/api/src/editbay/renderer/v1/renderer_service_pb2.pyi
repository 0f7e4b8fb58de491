import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import client_pb2 as _client_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RenderJob(_message.Message):
    __slots__ = ("name", "edit_plan", "preset", "state", "progress_percent", "attempt_count", "max_attempts", "failure_reason", "output", "expected_duration_seconds", "create_time", "update_time", "end_time")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[RenderJob.State]
        QUEUED: _ClassVar[RenderJob.State]
        RUNNING: _ClassVar[RenderJob.State]
        SUCCEEDED: _ClassVar[RenderJob.State]
        FAILED: _ClassVar[RenderJob.State]
        CANCELLED: _ClassVar[RenderJob.State]
    STATE_UNSPECIFIED: RenderJob.State
    QUEUED: RenderJob.State
    RUNNING: RenderJob.State
    SUCCEEDED: RenderJob.State
    FAILED: RenderJob.State
    CANCELLED: RenderJob.State
    NAME_FIELD_NUMBER: _ClassVar[int]
    EDIT_PLAN_FIELD_NUMBER: _ClassVar[int]
    PRESET_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_COUNT_FIELD_NUMBER: _ClassVar[int]
    MAX_ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    END_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    edit_plan: str
    preset: str
    state: RenderJob.State
    progress_percent: float
    attempt_count: int
    max_attempts: int
    failure_reason: str
    output: RenderOutput
    expected_duration_seconds: float
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    end_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., edit_plan: _Optional[str] = ..., preset: _Optional[str] = ..., state: _Optional[_Union[RenderJob.State, str]] = ..., progress_percent: _Optional[float] = ..., attempt_count: _Optional[int] = ..., max_attempts: _Optional[int] = ..., failure_reason: _Optional[str] = ..., output: _Optional[_Union[RenderOutput, _Mapping]] = ..., expected_duration_seconds: _Optional[float] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RenderOutput(_message.Message):
    __slots__ = ("storage_key", "uri", "duration_seconds", "size_bytes", "width", "height")
    STORAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    URI_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    storage_key: str
    uri: str
    duration_seconds: float
    size_bytes: int
    width: int
    height: int
    def __init__(self, storage_key: _Optional[str] = ..., uri: _Optional[str] = ..., duration_seconds: _Optional[float] = ..., size_bytes: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ...) -> None: ...

class CreateRenderJobRequest(_message.Message):
    __slots__ = ("parent", "render_job", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    RENDER_JOB_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    render_job: RenderJob
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., render_job: _Optional[_Union[RenderJob, _Mapping]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetRenderJobRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListRenderJobsRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "filter", "order_by")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    filter: str
    order_by: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ...) -> None: ...

class ListRenderJobsResponse(_message.Message):
    __slots__ = ("render_jobs", "next_page_token")
    RENDER_JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    render_jobs: _containers.RepeatedCompositeFieldContainer[RenderJob]
    next_page_token: str
    def __init__(self, render_jobs: _Optional[_Iterable[_Union[RenderJob, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelRenderJobRequest(_message.Message):
    __slots__ = ("name", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class WatchRenderJobRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...
