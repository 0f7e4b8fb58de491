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

class ReferenceVideo(_message.Message):
    __slots__ = ("name", "original_filename", "storage_key", "state", "progress_percent", "failure_reason", "analysis", "create_time", "update_time")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[ReferenceVideo.State]
        QUEUED: _ClassVar[ReferenceVideo.State]
        RUNNING: _ClassVar[ReferenceVideo.State]
        SUCCEEDED: _ClassVar[ReferenceVideo.State]
        FAILED: _ClassVar[ReferenceVideo.State]
        CANCELLED: _ClassVar[ReferenceVideo.State]
    STATE_UNSPECIFIED: ReferenceVideo.State
    QUEUED: ReferenceVideo.State
    RUNNING: ReferenceVideo.State
    SUCCEEDED: ReferenceVideo.State
    FAILED: ReferenceVideo.State
    CANCELLED: ReferenceVideo.State
    NAME_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_FILENAME_FIELD_NUMBER: _ClassVar[int]
    STORAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    original_filename: str
    storage_key: str
    state: ReferenceVideo.State
    progress_percent: float
    failure_reason: str
    analysis: VideoStyle
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., original_filename: _Optional[str] = ..., storage_key: _Optional[str] = ..., state: _Optional[_Union[ReferenceVideo.State, str]] = ..., progress_percent: _Optional[float] = ..., failure_reason: _Optional[str] = ..., analysis: _Optional[_Union[VideoStyle, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class VideoStyle(_message.Message):
    __slots__ = ("duration_seconds", "cut_count", "cut_times_seconds", "cuts_per_minute", "mean_shot_seconds", "median_shot_seconds", "p10_shot_seconds", "p90_shot_seconds", "integrated_loudness_lufs", "loudness_range_lu")
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CUT_COUNT_FIELD_NUMBER: _ClassVar[int]
    CUT_TIMES_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CUTS_PER_MINUTE_FIELD_NUMBER: _ClassVar[int]
    MEAN_SHOT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_SHOT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    P10_SHOT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    P90_SHOT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    INTEGRATED_LOUDNESS_LUFS_FIELD_NUMBER: _ClassVar[int]
    LOUDNESS_RANGE_LU_FIELD_NUMBER: _ClassVar[int]
    duration_seconds: float
    cut_count: int
    cut_times_seconds: _containers.RepeatedScalarFieldContainer[float]
    cuts_per_minute: float
    mean_shot_seconds: float
    median_shot_seconds: float
    p10_shot_seconds: float
    p90_shot_seconds: float
    integrated_loudness_lufs: float
    loudness_range_lu: float
    def __init__(self, duration_seconds: _Optional[float] = ..., cut_count: _Optional[int] = ..., cut_times_seconds: _Optional[_Iterable[float]] = ..., cuts_per_minute: _Optional[float] = ..., mean_shot_seconds: _Optional[float] = ..., median_shot_seconds: _Optional[float] = ..., p10_shot_seconds: _Optional[float] = ..., p90_shot_seconds: _Optional[float] = ..., integrated_loudness_lufs: _Optional[float] = ..., loudness_range_lu: _Optional[float] = ...) -> None: ...

class StyleProfile(_message.Message):
    __slots__ = ("name", "reference_video_count", "style", "update_time")
    NAME_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_VIDEO_COUNT_FIELD_NUMBER: _ClassVar[int]
    STYLE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    reference_video_count: int
    style: VideoStyle
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., reference_video_count: _Optional[int] = ..., style: _Optional[_Union[VideoStyle, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UploadReferenceVideoRequest(_message.Message):
    __slots__ = ("metadata", "chunk")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    metadata: ReferenceVideoUploadMetadata
    chunk: bytes
    def __init__(self, metadata: _Optional[_Union[ReferenceVideoUploadMetadata, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class ReferenceVideoUploadMetadata(_message.Message):
    __slots__ = ("parent", "filename", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    filename: str
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., filename: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetReferenceVideoRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListReferenceVideosRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListReferenceVideosResponse(_message.Message):
    __slots__ = ("reference_videos", "next_page_token")
    REFERENCE_VIDEOS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    reference_videos: _containers.RepeatedCompositeFieldContainer[ReferenceVideo]
    next_page_token: str
    def __init__(self, reference_videos: _Optional[_Iterable[_Union[ReferenceVideo, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchReferenceVideoRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetStyleProfileRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...
