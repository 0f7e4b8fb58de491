"""The gateway's client side over real sockets: HTTP in, gRPC out.

The gRPC server here is a minimal stand-in written for these tests: it implements only the few
methods the gateway's handlers need to be exercised (an upload that counts bytes, a watch that
streams three messages, a render job lookup), so what is tested is the gateway's own code. The
flow through the real services is covered by the cross-service tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from editbay.catalog.v1 import catalog_service_pb2 as catalog_pb
from editbay.catalog.v1 import catalog_service_pb2_grpc as catalog_grpc
from editbay.planner.v1 import planner_service_pb2 as planner_pb
from editbay.planner.v1 import planner_service_pb2_grpc as planner_grpc
from editbay.renderer.v1 import renderer_service_pb2 as renderer_pb
from editbay.renderer.v1 import renderer_service_pb2_grpc as renderer_grpc
from editbay.training.v1 import training_service_pb2_grpc as training_grpc
from editbay_common.errors import ServiceError, not_found
from editbay_common.runtime import RunningServer, Servicer, ServiceUnit, start_server
from editbay_common.settings import Settings
from editbay_common.upload_calls import UploadCall, serve_upload
from editbay_gateway.app import create_app
from editbay_gateway.serving import RunningHttp, start_http
from editbay_gateway.sse import parse_sse

MiB = 1024 * 1024
SERVER_LIMIT = 3 * MiB + 512 * 1024
GATEWAY_LIMIT = 4 * MiB


@dataclass
class UploadLog:
    started: int = 0
    completed: int = 0
    metadata: list[catalog_pb.TakeUploadMetadata] = field(default_factory=list)
    chunk_sizes: list[int] = field(default_factory=list)
    first_chunk: asyncio.Event = field(default_factory=asyncio.Event)
    messages: int = 0  # every request message taken off the wire, drained ones included


class Catalog(catalog_grpc.CatalogServiceServicer):
    def __init__(self, log: UploadLog) -> None:
        self.log = log

    async def CreateShow(self, request: Any, context: Any) -> catalog_pb.Show:
        show = catalog_pb.Show()
        show.CopyFrom(request.show)
        show.name = f"shows/{request.show_id or 'generated'}"
        return show

    async def GetShow(self, request: Any, context: Any) -> catalog_pb.Show:
        raise not_found("show", request.name, domain="catalog.editbay.dev")

    async def UploadTake(self, request_iterator: Any, context: Any) -> catalog_pb.Take:
        return await serve_upload(self._counted(request_iterator), context, self._upload)

    async def _counted(self, requests: Any) -> AsyncIterator[catalog_pb.UploadTakeRequest]:
        async for message in requests:
            self.log.messages += 1
            yield message

    async def _upload(self, call: UploadCall) -> catalog_pb.Take:
        self.log.started += 1
        digest = hashlib.sha256()
        size = 0
        first = await call.first()
        self.log.metadata.append(first.metadata)
        if first.metadata.parent.endswith("/episodes/missing"):
            raise not_found("episode", first.metadata.parent, domain="catalog.editbay.dev")
        await call.accept()
        async for message in call:
            self.log.chunk_sizes.append(len(message.chunk))
            self.log.first_chunk.set()
            size += len(message.chunk)
            digest.update(message.chunk)
            if size > SERVER_LIMIT:
                raise ServiceError(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    "UPLOAD_TOO_LARGE",
                    "too large",
                    domain="catalog.editbay.dev",
                )
        self.log.completed += 1
        meta = self.log.metadata[-1]
        return catalog_pb.Take(
            name=f"{meta.parent}/takes/t1",
            scene_number=meta.scene_number,
            original_filename=meta.filename,
            size_bytes=size,
            sha256=digest.hexdigest(),
            state=catalog_pb.Take.READY,
        )


class Planner(planner_grpc.PlannerServiceServicer):
    async def WatchEditPlan(self, request: Any, context: Any) -> AsyncIterator[Any]:
        if request.name.endswith("/missing"):
            raise not_found("edit_plan", request.name, domain="planner.editbay.dev")
        for percent in (10, 60, 100):
            state = (
                planner_pb.EditPlan.PROPOSED if percent == 100 else planner_pb.EditPlan.GENERATING
            )
            yield planner_pb.EditPlan(name=request.name, progress_percent=percent, state=state)


class Renderer(renderer_grpc.RendererServiceServicer):
    def __init__(self, video: Path) -> None:
        self.video = video

    async def GetRenderJob(self, request: Any, context: Any) -> renderer_pb.RenderJob:
        job = renderer_pb.RenderJob(name=request.name, state=renderer_pb.RenderJob.SUCCEEDED)
        job_id = request.name.rsplit("/", 1)[-1]
        if job_id == "local":
            job.output.uri = self.video.as_uri()
        elif job_id == "gone":
            job.output.uri = (self.video.parent / "nothing.mp4").as_uri()
        elif job_id == "s3":
            job.output.uri = "https://bucket.example/out.mp4?X-Amz-Signature=abc"
        else:
            job.state = renderer_pb.RenderJob.RUNNING
        return job


class Training(training_grpc.TrainingServiceServicer):
    pass  # every method UNIMPLEMENTED


@dataclass
class Stack:
    backend: RunningServer
    http: RunningHttp
    client: httpx.AsyncClient
    uploads: UploadLog
    video: Path


@pytest.fixture
async def stack(tmp_path: Path) -> AsyncIterator[Stack]:
    uploads = UploadLog()
    video = tmp_path / "out.mp4"
    video.write_bytes(os.urandom(50_000))
    servicers = [
        Servicer(catalog_grpc.add_CatalogServiceServicer_to_server, Catalog(uploads),
                 "editbay.catalog.v1.CatalogService"),
        Servicer(planner_grpc.add_PlannerServiceServicer_to_server, Planner(),
                 "editbay.planner.v1.PlannerService"),
        Servicer(renderer_grpc.add_RendererServiceServicer_to_server, Renderer(video),
                 "editbay.renderer.v1.RendererService"),
        Servicer(training_grpc.add_TrainingServiceServicer_to_server, Training(),
                 "editbay.training.v1.TrainingService"),
    ]  # fmt: skip
    backend = await start_server([ServiceUnit("fakes", servicers=servicers)], port=0, grace_s=1)
    address = f"127.0.0.1:{backend.port}"
    settings = Settings(
        data_dir=tmp_path,
        catalog_addr=address,
        planner_addr=address,
        renderer_addr=address,
        training_addr=address,
        max_upload_bytes=GATEWAY_LIMIT,
    )
    http = await start_http(create_app(settings))
    async with httpx.AsyncClient(base_url=http.base_url, timeout=30) as client:
        yield Stack(backend, http, client, uploads, video)
    await http.stop()
    await backend.stop()


def multipart(fields: list[tuple[str, str]], filename: str, size: int) -> tuple[bytes, bytes, str]:
    """Head (fields and the file part's headers), tail and content type of a form."""
    boundary = "testboundary1234"
    head = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields
    )
    head += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    return head, tail, f"multipart/form-data; boundary={boundary}"


UPLOAD_URL = "/v1/shows/s1/episodes/e1/takes:upload"


async def test_create_and_not_found_in_json(stack: Stack) -> None:
    created = await stack.client.post(
        "/v1/shows", params={"showId": "kitchen"}, json={"displayName": "Kitchen Talks"}
    )
    assert created.status_code == 200
    assert created.json() == {"name": "shows/kitchen", "displayName": "Kitchen Talks"}
    missing = await stack.client.get("/v1/shows/nope")
    assert missing.status_code == 404
    error = missing.json()["error"]
    assert error["status"] == "NOT_FOUND"
    [info] = error["details"]
    assert info["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert info["reason"] == "SHOW_NOT_FOUND"
    assert info["domain"] == "catalog.editbay.dev"
    assert info["metadata"]["name"] == "shows/nope"


async def test_bad_json_is_refused_before_any_call(stack: Stack) -> None:
    response = await stack.client.post("/v1/shows", json={"displayName": 5})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["metadata"]["field"] == "show.displayName"


async def test_unimplemented_and_unrouted(stack: Stack) -> None:
    response = await stack.client.get("/v1/shows/s1/referenceVideos")
    assert response.status_code == 501
    assert response.json()["error"]["status"] == "UNIMPLEMENTED"
    assert (await stack.client.get("/v1/nowhere")).status_code == 404
    wrong_method = await stack.client.put("/v1/shows/s1")
    assert wrong_method.status_code == 405
    assert "GET" in wrong_method.headers["allow"]


async def test_upload_streams_in_one_mib_chunks(stack: Stack) -> None:
    data = os.urandom(2 * MiB + 123_456)
    response = await stack.client.post(
        UPLOAD_URL,
        data={"scene_number": "7", "request_id": "req-1"},
        files={"file": ("C:\\clips\\S02_T03.mp4", data, "video/mp4")},
    )
    assert response.status_code == 200, response.text
    take = response.json()
    assert take["sha256"] == hashlib.sha256(data).hexdigest()
    assert take["sizeBytes"] == str(len(data))  # int64 is a string in proto3 JSON
    [meta] = stack.uploads.metadata
    assert meta.parent == "shows/s1/episodes/e1"
    assert meta.filename == "S02_T03.mp4"
    assert meta.scene_number == 7
    assert meta.request_id == "req-1"
    assert stack.uploads.chunk_sizes == [MiB, MiB, len(data) - 2 * MiB]


async def test_upload_reaches_the_service_before_the_body_ends(stack: Stack) -> None:
    """If the gateway buffered the body, the service would see nothing until the end: the
    client here waits for the service's first chunk before sending the rest."""
    head, tail, content_type = multipart([], "S01_T01.mp4", 0)
    first, rest = os.urandom(MiB + 1000), os.urandom(300_000)

    async def body() -> AsyncIterator[bytes]:
        yield head + first
        await asyncio.wait_for(stack.uploads.first_chunk.wait(), timeout=20)
        yield rest + tail

    response = await stack.client.post(
        UPLOAD_URL, content=body(), headers={"content-type": content_type}
    )
    assert response.status_code == 200, response.text
    assert response.json()["sha256"] == hashlib.sha256(first + rest).hexdigest()


async def test_a_refused_upload_is_answered_before_the_file_is_sent(stack: Stack) -> None:
    response = await stack.client.post(
        UPLOAD_URL.replace("/e1/", "/missing/"),
        files={"file": ("S01_T01.mp4", os.urandom(3 * MiB), "video/mp4")},
    )
    assert response.status_code == 404, response.text
    info = response.json()["error"]["details"][0]
    assert (info["reason"], info["domain"]) == ("EPISODE_NOT_FOUND", "catalog.editbay.dev")
    assert stack.uploads.messages == 1  # the catalog said no to the metadata alone


async def test_declared_oversize_is_413_before_calling(stack: Stack) -> None:
    response = await stack.client.post(
        UPLOAD_URL, files={"file": ("S01_T01.mp4", b"x" * (GATEWAY_LIMIT + 1), "video/mp4")}
    )
    assert response.status_code == 413
    assert response.json()["error"]["details"][0]["reason"] == "UPLOAD_TOO_LARGE"
    assert stack.uploads.started == 0


async def test_streamed_oversize_is_413_and_cancels_the_call(stack: Stack) -> None:
    head, tail, content_type = multipart([], "S01_T01.mp4", 0)

    async def body() -> AsyncIterator[bytes]:  # chunked: no Content-Length to refuse early
        yield head
        for _ in range(5):
            yield b"y" * MiB
        yield tail

    response = await stack.client.post(
        UPLOAD_URL, content=body(), headers={"content-type": content_type}
    )
    assert response.status_code == 413
    assert response.json()["error"]["details"][0]["domain"] == "gateway.editbay.dev"
    # The gateway stopped forwarding at its limit and cancelled the call. (A grpc.aio server
    # sees a client's cancel as the end of its request stream and is cancelled just after; the
    # service's own checks of the stored file are what keep a cut-off upload out.)
    assert sum(stack.uploads.chunk_sizes) <= GATEWAY_LIMIT


async def test_service_side_upload_too_large_maps_to_413(stack: Stack) -> None:
    data = b"z" * (SERVER_LIMIT + 100_000)  # under the gateway's limit, over the service's
    response = await stack.client.post(
        UPLOAD_URL, files={"file": ("S01_T01.mp4", data, "video/mp4")}
    )
    assert response.status_code == 413
    info = response.json()["error"]["details"][0]
    assert (info["reason"], info["domain"]) == ("UPLOAD_TOO_LARGE", "catalog.editbay.dev")


async def test_field_after_file_is_refused_and_nothing_completes(stack: Stack) -> None:
    head, tail, content_type = multipart([], "S01_T01.mp4", 0)
    boundary = content_type.split("=")[1]
    late = (
        f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="scene_number"\r\n\r\n2'
    ).encode()
    body = head + b"abc" + late + tail
    response = await stack.client.post(
        UPLOAD_URL, content=body, headers={"content-type": content_type}
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["metadata"]["field"] == "scene_number"
    assert sum(stack.uploads.chunk_sizes) <= 3


async def test_missing_file_part_and_unknown_field(stack: Stack) -> None:
    response = await stack.client.post(UPLOAD_URL, data={"scene_number": "1"}, files={})
    assert response.status_code == 400
    no_file = await stack.client.post(
        UPLOAD_URL, files={"other": ("a.txt", b"abc", "text/plain"), "x": (None, "1")}
    )
    assert no_file.status_code == 400
    unknown = await stack.client.post(
        UPLOAD_URL, data={"colour": "red"}, files={"file": ("S01_T01.mp4", b"abc", "video/mp4")}
    )
    assert unknown.status_code == 400
    assert unknown.json()["error"]["details"][0]["metadata"]["field"] == "colour"
    assert stack.uploads.started == 0


async def test_watch_is_server_sent_events(stack: Stack) -> None:
    url = "/v1/shows/s/episodes/e/editPlans/p1:watch"
    async with stack.client.stream("GET", url) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        text = (await response.aread()).decode()
    events = parse_sse(text)
    assert [name for name, _ in events] == ["message"] * 3
    assert [data["progressPercent"] for _, data in events] == [10, 60, 100]
    assert events[-1][1]["state"] == "PROPOSED"
    missing = await stack.client.get("/v1/shows/s/episodes/e/editPlans/missing:watch")
    assert missing.status_code == 404
    assert missing.json()["error"]["details"][0]["reason"] == "EDIT_PLAN_NOT_FOUND"


async def test_download_of_local_s3_and_unfinished_outputs(stack: Stack) -> None:
    base = "/v1/shows/s/episodes/e/renderJobs"
    local = await stack.client.get(f"{base}/local:download")
    assert local.status_code == 200
    assert local.content == stack.video.read_bytes()
    assert local.headers["content-type"] == "video/mp4"
    s3 = await stack.client.get(f"{base}/s3:download")
    assert s3.status_code == 307
    assert s3.headers["location"].startswith("https://bucket.example/out.mp4")
    pending = await stack.client.get(f"{base}/busy:download")
    assert pending.status_code == 400
    assert pending.json()["error"]["details"][0]["reason"] == "RENDER_OUTPUT_NOT_READY"
    gone = await stack.client.get(f"{base}/gone:download")
    assert gone.status_code == 404


async def test_healthz_follows_the_backends(stack: Stack) -> None:
    healthy = await stack.client.get("/healthz")
    assert healthy.status_code == 200
    assert healthy.json()["services"] == dict.fromkeys(
        ("catalog", "planner", "renderer", "training"), "SERVING"
    )
    await stack.backend.stop()
    down = await stack.client.get("/healthz")
    assert down.status_code == 503
    assert set(down.json()["services"].values()) != {"SERVING"}


async def test_openapi_lists_generated_routes(stack: Stack) -> None:
    doc = (await stack.client.get("/openapi.json")).json()
    approve = doc["paths"]["/v1/shows/{show}/episodes/{episode}/editPlans/{editPlan}:approve"]
    assert approve["post"]["operationId"] == "ApproveEditPlan"
    assert approve["post"]["tags"] == ["planner"]
    assert approve["post"]["summary"]
    upload = doc["paths"]["/v1/shows/{show}/episodes/{episode}/takes:upload"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert "/healthz" in doc["paths"]
    assert (await stack.client.get("/docs")).status_code == 200


async def test_an_oversized_json_body_is_413_and_never_sent(stack: Stack) -> None:
    big = {"displayName": "x" * (9 * MiB)}
    declared = await stack.client.post("/v1/shows", json=big)
    assert declared.status_code == 413
    assert declared.json()["error"]["details"][0]["reason"] == "BODY_TOO_LARGE"

    async def body() -> AsyncIterator[bytes]:  # chunked: no Content-Length to refuse early
        yield b'{"displayName": "'
        for _ in range(9):
            yield b"x" * MiB
        yield b'"}'

    streamed = await stack.client.post(
        "/v1/shows", content=body(), headers={"content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert streamed.json()["error"]["details"][0]["domain"] == "gateway.editbay.dev"
