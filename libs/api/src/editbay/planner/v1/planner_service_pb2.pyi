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

class Generator(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    GENERATOR_UNSPECIFIED: _ClassVar[Generator]
    HEURISTIC: _ClassVar[Generator]
GENERATOR_UNSPECIFIED: Generator
HEURISTIC: Generator

class EditPlan(_message.Message):
    __slots__ = ("name", "version", "state", "generator", "progress_percent", "choices", "total_duration_seconds", "failure_reason", "feedback", "create_time", "update_time", "review_time", "etag")
    class State(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
        __slots__ = ()
        STATE_UNSPECIFIED: _ClassVar[EditPlan.State]
        GENERATING: _ClassVar[EditPlan.State]
        PROPOSED: _ClassVar[EditPlan.State]
        APPROVED: _ClassVar[EditPlan.State]
        REJECTED: _ClassVar[EditPlan.State]
        FAILED: _ClassVar[EditPlan.State]
    STATE_UNSPECIFIED: EditPlan.State
    GENERATING: EditPlan.State
    PROPOSED: EditPlan.State
    APPROVED: EditPlan.State
    REJECTED: EditPlan.State
    FAILED: EditPlan.State
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_PERCENT_FIELD_NUMBER: _ClassVar[int]
    CHOICES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_DURATION_SECONDS_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    REVIEW_TIME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    state: EditPlan.State
    generator: Generator
    progress_percent: int
    choices: _containers.RepeatedCompositeFieldContainer[SceneChoice]
    total_duration_seconds: float
    failure_reason: str
    feedback: str
    create_time: _timestamp_pb2.Timestamp
    update_time: _timestamp_pb2.Timestamp
    review_time: _timestamp_pb2.Timestamp
    etag: str
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ..., state: _Optional[_Union[EditPlan.State, str]] = ..., generator: _Optional[_Union[Generator, str]] = ..., progress_percent: _Optional[int] = ..., choices: _Optional[_Iterable[_Union[SceneChoice, _Mapping]]] = ..., total_duration_seconds: _Optional[float] = ..., failure_reason: _Optional[str] = ..., feedback: _Optional[str] = ..., create_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., review_time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class SceneChoice(_message.Message):
    __slots__ = ("scene_number", "take", "take_storage_key", "in_seconds", "out_seconds", "confidence", "rationale", "candidates")
    SCENE_NUMBER_FIELD_NUMBER: _ClassVar[int]
    TAKE_FIELD_NUMBER: _ClassVar[int]
    TAKE_STORAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    IN_SECONDS_FIELD_NUMBER: _ClassVar[int]
    OUT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    RATIONALE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    scene_number: int
    take: str
    take_storage_key: str
    in_seconds: float
    out_seconds: float
    confidence: float
    rationale: str
    candidates: _containers.RepeatedCompositeFieldContainer[CandidateScore]
    def __init__(self, scene_number: _Optional[int] = ..., take: _Optional[str] = ..., take_storage_key: _Optional[str] = ..., in_seconds: _Optional[float] = ..., out_seconds: _Optional[float] = ..., confidence: _Optional[float] = ..., rationale: _Optional[str] = ..., candidates: _Optional[_Iterable[_Union[CandidateScore, _Mapping]]] = ...) -> None: ...

class CandidateScore(_message.Message):
    __slots__ = ("take", "score", "penalties")
    TAKE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    PENALTIES_FIELD_NUMBER: _ClassVar[int]
    take: str
    score: float
    penalties: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, take: _Optional[str] = ..., score: _Optional[float] = ..., penalties: _Optional[_Iterable[str]] = ...) -> None: ...

class GenerateEditPlanRequest(_message.Message):
    __slots__ = ("parent", "generator", "request_id")
    PARENT_FIELD_NUMBER: _ClassVar[int]
    GENERATOR_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    parent: str
    generator: Generator
    request_id: str
    def __init__(self, parent: _Optional[str] = ..., generator: _Optional[_Union[Generator, str]] = ..., request_id: _Optional[str] = ...) -> None: ...

class GetEditPlanRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class ListEditPlansRequest(_message.Message):
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

class ListEditPlansResponse(_message.Message):
    __slots__ = ("edit_plans", "next_page_token")
    EDIT_PLANS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    edit_plans: _containers.RepeatedCompositeFieldContainer[EditPlan]
    next_page_token: str
    def __init__(self, edit_plans: _Optional[_Iterable[_Union[EditPlan, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ApproveEditPlanRequest(_message.Message):
    __slots__ = ("name", "etag", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    etag: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class RejectEditPlanRequest(_message.Message):
    __slots__ = ("name", "feedback", "etag", "request_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    feedback: str
    etag: str
    request_id: str
    def __init__(self, name: _Optional[str] = ..., feedback: _Optional[str] = ..., etag: _Optional[str] = ..., request_id: _Optional[str] = ...) -> None: ...

class WatchEditPlanRequest(_message.Message):
    __slots__ = ("name",)
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...
