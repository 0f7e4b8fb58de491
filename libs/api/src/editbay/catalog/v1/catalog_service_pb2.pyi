import datetime

from google.api import annotations_pb2 as _annotations_pb2
from google.api import client_pb2 as _client_pb2
from google.api import field_behavior_pb2 as _field_behavior_pb2
from google.api import resource_pb2 as _resource_pb2
from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Show(_message.Message):
    __slots__ = ("name", "display_name", "description", "create_time", "update_time", "delete_time", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DELETE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    description: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    delete_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class Episode(_message.Message):
    __slots__ = ("name", "display_name", "description", "final_video", "create_time", "update_time", "delete_time", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FINAL_VIDEO_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DELETE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    display_name: str
    description: str
    final_video: FinalVideo
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    delete_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, name: _Optional[str] = ..., display_name: _Optional[str] = ..., description: _Optional[str] = ..., final_video: _Optional[_Union[FinalVideo, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class FinalVideo(_message.Message):
    __slots__ = ("render_job", "storage_key", "duration_seconds", "render_time")
    RENDER_JOB_FIELD_NUMBER: _ClassVar[int]
    STORAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    RENDER_TIME_FIELD_NUMBER: _ClassVar[int]
    render_job: str
    storage_key: str
    duration_seconds: float
    render_time: _timestamp_pb2.Timestamp
    def __init__(self, render_job: _Optional[str] = ..., storage_key: _Optional[str] = ..., duration_seconds: _Optional[float] = ..., render_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Script(_message.Message):
    __slots__ = ("name", "text", "scene_count", "update_time", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    SCENE_COUNT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    text: str
    scene_count: int
    update_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, name: _Optional[str] = ..., text: _Optional[str] = ..., scene_count: _Optional[int] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class Scene(_message.Message):
    __slots__ = ("name", "number", "heading", "text", "ready_take_count")
    NAME_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    HEADING_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    READY_TAKE_COUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    number: int
    heading: str
    text: str
    ready_take_count: int
    def __init__(self, name: _Optional[str] = ..., number: _Optional[int] = ..., heading: _Optional[str] = ..., text: _Optional[str] = ..., ready_take_count: _Optional[int] = ...) -> None: ...

class Take(_message.Message):
    __slots__ = ("name", "scene_number", "take_number", "original_filename", "state", "failure_reason", "storage_key", "size_bytes", "sha256", "media", "analysis", "create_time", "update_time", "delete_time")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[Take.State]
        ANALYZING: _ClassVar[Take.State]
        READY: _ClassVar[Take.State]
        FAILED: _ClassVar[Take.State]
    STATE_UNSPECIFIED: Take.State
    ANALYZING: Take.State
    READY: Take.State
    FAILED: Take.State
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCENE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    TAKE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_FILENAME_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    STORAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    MEDIA_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DELETE_TIME_FIELD_NUMBER: _ClassVar[int]
    name: str
    scene_number: int
    take_number: int
    original_filename: str
    state: Take.State
    failure_reason: str
    storage_key: str
    size_bytes: int
    sha256: str
    media: MediaFacts
    analysis: TakeAnalysis
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    delete_time: _timestamp_pb2.Timestamp
    def __init__(self, name: _Optional[str] = ..., scene_number: _Optional[int] = ..., take_number: _Optional[int] = ..., original_filename: _Optional[str] = ..., state: _Optional[_Union[Take.State, str]] = ..., failure_reason: _Optional[str] = ..., storage_key: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., media: _Optional[_Union[MediaFacts, _Mapping]] = ..., analysis: _Optional[_Union[TakeAnalysis, _Mapping]] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., delete_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class MediaFacts(_message.Message):
    __slots__ = ("container", "duration_seconds", "video_codec", "width", "height", "frame_rate", "audio_codec", "audio_channels", "audio_sample_rate", "rotation", "variable_frame_rate", "keyframe_interval_seconds")
    CONTAINER_FIELD_NUMBER: _ClassVar[int]
    DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    VIDEO_CODEC_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    FRAME_RATE_FIELD_NUMBER: _ClassVar[int]
    AUDIO_CODEC_FIELD_NUMBER: _ClassVar[int]
    AUDIO_CHANNELS_FIELD_NUMBER: _ClassVar[int]
    AUDIO_SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    ROTATION_FIELD_NUMBER: _ClassVar[int]
    VARIABLE_FRAME_RATE_FIELD_NUMBER: _ClassVar[int]
    KEYFRAME_INTERVAL_SECONDS_FIELD_NUMBER: _ClassVar[int]
    container: str
    duration_seconds: float
    video_codec: str
    width: int
    height: int
    frame_rate: float
    audio_codec: str
    audio_channels: int
    audio_sample_rate: int
    rotation: int
    variable_frame_rate: bool
    keyframe_interval_seconds: float
    def __init__(self, container: _Optional[str] = ..., duration_seconds: _Optional[float] = ..., video_codec: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., frame_rate: _Optional[float] = ..., audio_codec: _Optional[str] = ..., audio_channels: _Optional[int] = ..., audio_sample_rate: _Optional[int] = ..., rotation: _Optional[int] = ..., variable_frame_rate: _Optional[bool] = ..., keyframe_interval_seconds: _Optional[float] = ...) -> None: ...

class TimeInterval(_message.Message):
    __slots__ = ("start_seconds", "end_seconds")
    START_SECONDS_FIELD_NUMBER: _ClassVar[int]
    END_SECONDS_FIELD_NUMBER: _ClassVar[int]
    start_seconds: float
    end_seconds: float
    def __init__(self, start_seconds: _Optional[float] = ..., end_seconds: _Optional[float] = ...) -> None: ...

class TakeAnalysis(_message.Message):
    __slots__ = ("speech", "pauses", "integrated_loudness_lufs", "loudness_range_lu", "true_peak_dbtp", "clipped", "thumbnail_key", "proxy_key", "contact_sheet_key")
    SPEECH_FIELD_NUMBER: _ClassVar[int]
    PAUSES_FIELD_NUMBER: _ClassVar[int]
    INTEGRATED_LOUDNESS_LUFS_FIELD_NUMBER: _ClassVar[int]
    LOUDNESS_RANGE_LU_FIELD_NUMBER: _ClassVar[int]
    TRUE_PEAK_DBTP_FIELD_NUMBER: _ClassVar[int]
    CLIPPED_FIELD_NUMBER: _ClassVar[int]
    THUMBNAIL_KEY_FIELD_NUMBER: _ClassVar[int]
    PROXY_KEY_FIELD_NUMBER: _ClassVar[int]
    CONTACT_SHEET_KEY_FIELD_NUMBER: _ClassVar[int]
    speech: _containers.RepeatedCompositeFieldContainer[TimeInterval]
    pauses: _containers.RepeatedCompositeFieldContainer[TimeInterval]
    integrated_loudness_lufs: float
    loudness_range_lu: float
    true_peak_dbtp: float
    clipped: bool
    thumbnail_key: str
    proxy_key: str
    contact_sheet_key: str
    def __init__(self, speech: _Optional[_Iterable[_Union[TimeInterval, _Mapping]]] = ..., pauses: _Optional[_Iterable[_Union[TimeInterval, _Mapping]]] = ..., integrated_loudness_lufs: _Optional[float] = ..., loudness_range_lu: _Optional[float] = ..., true_peak_dbtp: _Optional[float] = ..., clipped: _Optional[bool] = ..., thumbnail_key: _Optional[str] = ..., proxy_key: _Optional[str] = ..., contact_sheet_key: _Optional[str] = ...) -> None: ...

class CreateShowRequest(_message.Message):
    __slots__ = ("show", "show_id", "request_id")
    SHOW_FIELD_NUMBER: _ClassVar[int]
    SHOW_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    show: Show
    show_id: str
    request_id: str
    def __init__(self, show: _Optional[_Union[Show, _Mapping]] = ..., show_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetShowRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListShowsRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "filter", "order_by", "show_deleted")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    SHOW_DELETED_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    filter: str
    order_by: str
    show_deleted: bool
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ..., show_deleted: _Optional[bool] = ...) -> None: ...

class ListShowsResponse(_message.Message):
    __slots__ = ("shows", "next_page_token")
    SHOWS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    shows: _containers.RepeatedCompositeFieldContainer[Show]
    next_page_token: str
    def __init__(self, shows: _Optional[_Iterable[_Union[Show, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateShowRequest(_message.Message):
    __slots__ = ("show", "update_mask")
    SHOW_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    show: Show
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, show: _Optional[_Union[Show, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteShowRequest(_message.Message):
    __slots__ = ("name", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    etag: str
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class UndeleteShowRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class CreateEpisodeRequest(_message.Message):
    __slots__ = ("parent", "episode", "episode_id", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    EPISODE_FIELD_NUMBER: _ClassVar[int]
    EPISODE_ID_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    episode: Episode
    episode_id: str
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., episode: _Optional[_Union[Episode, _Mapping]] = ..., episode_id: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetEpisodeRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListEpisodesRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "filter", "order_by", "show_deleted")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    ORDER_BY_FIELD_NUMBER: _ClassVar[int]
    SHOW_DELETED_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    filter: str
    order_by: str
    show_deleted: bool
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[str] = ..., order_by: _Optional[str] = ..., show_deleted: _Optional[bool] = ...) -> None: ...

class ListEpisodesResponse(_message.Message):
    __slots__ = ("episodes", "next_page_token")
    EPISODES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    episodes: _containers.RepeatedCompositeFieldContainer[Episode]
    next_page_token: str
    def __init__(self, episodes: _Optional[_Iterable[_Union[Episode, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UpdateEpisodeRequest(_message.Message):
    __slots__ = ("episode", "update_mask")
    EPISODE_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    episode: Episode
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, episode: _Optional[_Union[Episode, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class DeleteEpisodeRequest(_message.Message):
    __slots__ = ("name", "etag")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    etag: str
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class GetScriptRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class UpdateScriptRequest(_message.Message):
    __slots__ = ("script", "update_mask")
    SCRIPT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    script: Script
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, script: _Optional[_Union[Script, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class GetSceneRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListScenesRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListScenesResponse(_message.Message):
    __slots__ = ("scenes", "next_page_token")
    SCENES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    scenes: _containers.RepeatedCompositeFieldContainer[Scene]
    next_page_token: str
    def __init__(self, scenes: _Optional[_Iterable[_Union[Scene, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class UploadTakeRequest(_message.Message):
    __slots__ = ("metadata", "chunk")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    metadata: TakeUploadMetadata
    chunk: bytes
    def __init__(self, metadata: _Optional[_Union[TakeUploadMetadata, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class TakeUploadMetadata(_message.Message):
    __slots__ = ("parent", "filename", "scene_number", "take_number", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    SCENE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    TAKE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    filename: str
    scene_number: int
    take_number: int
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., filename: _Optional[str] = ..., scene_number: _Optional[int] = ..., take_number: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetTakeRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListTakesRequest(_message.Message):
    __slots__ = ("parent", "page_size", "page_token", "filter", "show_deleted")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    SHOW_DELETED_FIELD_NUMBER: _ClassVar[int]
    parent: str
    page_size: int
    page_token: str
    filter: str
    show_deleted: bool
    def __init__(self, parent: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., filter: _Optional[str] = ..., show_deleted: _Optional[bool] = ...) -> None: ...

class ListTakesResponse(_message.Message):
    __slots__ = ("takes", "next_page_token")
    TAKES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    takes: _containers.RepeatedCompositeFieldContainer[Take]
    next_page_token: str
    def __init__(self, takes: _Optional[_Iterable[_Union[Take, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DeleteTakeRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...
