"""One storage suite, run against a local folder and against S3 (moto server)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import urllib.request
from pathlib import Path

import httpx
import pytest

from editbay_common.ids import id_time
from editbay_common.storage import (
    InvalidKey,
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
    StorageError,
    new_key,
    open_storage,
)

from .conftest import make_s3_storage

PAYLOAD = bytes(range(256)) * 300  # 76.8 kB, not valid UTF-8, so bytes are compared exactly

BAD_KEYS = [
    "",
    "../escape",
    "a/../../escape",
    "/etc/passwd",
    "a\\b",
    "a\x00b",
    "a//b",
    "a/./b",
    ".hidden",
    "a/b/",
    "spaces are not allowed",
    "x" * 600,
]


def _hidden_files(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if p.name.startswith(".")]


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


async def test_put_bytes_then_read_it_back(storage: Storage, tmp_path: Path) -> None:
    key = new_key("takes", ".bin")
    assert not await storage.exists(key)
    await storage.put_bytes(key, PAYLOAD, content_type="application/octet-stream")
    assert await storage.exists(key)
    assert await storage.size(key) == len(PAYLOAD)
    assert await storage.get_bytes(key) == PAYLOAD
    dest = await storage.get_file(key, tmp_path / "out" / "copy.bin")
    assert dest == tmp_path / "out" / "copy.bin"
    assert dest.read_bytes() == PAYLOAD
    assert sorted(p.name for p in dest.parent.iterdir()) == ["copy.bin"]  # no temp files left


async def test_put_file_replaces_an_existing_object(storage: Storage, tmp_path: Path) -> None:
    key = new_key("renders", ".mp4")
    first, second = tmp_path / "first.mp4", tmp_path / "second.mp4"
    first.write_bytes(b"first version")
    second.write_bytes(PAYLOAD)
    await storage.put_file(key, first, content_type="video/mp4")
    await storage.put_file(key, second, content_type="video/mp4")
    assert await storage.size(key) == len(PAYLOAD)
    assert await storage.get_bytes(key) == PAYLOAD


async def test_url_serves_the_object(storage: Storage) -> None:
    key = new_key("thumbnails", ".jpg")
    await storage.put_bytes(key, PAYLOAD, content_type="image/jpeg")
    url = await storage.url(key, expires_s=60)
    expected_scheme = "file" if isinstance(storage, LocalStorage) else "http"
    assert url.startswith(f"{expected_scheme}://")
    assert await asyncio.to_thread(_fetch, url) == PAYLOAD


async def test_local_path_holds_the_bytes(storage: Storage, tmp_path: Path) -> None:
    key = new_key("takes", ".mp4")
    await storage.put_bytes(key, PAYLOAD)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    path = await storage.local_path(key, scratch)
    assert path.read_bytes() == PAYLOAD
    if isinstance(storage, LocalStorage):
        assert path == storage.path_for(key)  # the stored file itself, no copy
        assert list(scratch.iterdir()) == []
    else:
        assert path.is_relative_to(scratch)


async def test_delete_removes_and_is_idempotent(storage: Storage) -> None:
    key = new_key("assets", ".png")
    await storage.put_bytes(key, b"png")
    await storage.delete(key)
    assert not await storage.exists(key)
    await storage.delete(key)  # deleting again is not an error


async def test_missing_objects_raise_object_not_found(storage: Storage, tmp_path: Path) -> None:
    key = new_key("takes", ".mp4")
    with pytest.raises(ObjectNotFound):
        await storage.size(key)
    with pytest.raises(ObjectNotFound):
        await storage.get_file(key, tmp_path / "missing.mp4")
    with pytest.raises(ObjectNotFound):
        await storage.get_bytes(key)
    assert not (tmp_path / "missing.mp4").exists()
    assert _hidden_files(tmp_path) == []  # no temporary download left behind


@pytest.mark.parametrize("key", BAD_KEYS)
async def test_invalid_keys_are_refused(storage: Storage, key: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidKey):
        await storage.put_bytes(key, b"x")
    with pytest.raises(InvalidKey):
        await storage.get_file(key, tmp_path / "x")
    with pytest.raises(InvalidKey):
        await storage.exists(key)
    with pytest.raises(InvalidKey):
        await storage.delete(key)
    with pytest.raises(InvalidKey):
        await storage.url(key)


async def test_local_storage_refuses_a_symlink_out_of_its_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_bytes(b"secret")
    storage = LocalStorage(tmp_path / "root")
    (storage.root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(InvalidKey):
        await storage.get_bytes("link/secret.txt")
    with pytest.raises(InvalidKey):
        await storage.put_bytes("link/planted.txt", b"x")
    assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]


async def test_local_storage_has_no_presigned_uploads(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    with pytest.raises(StorageError, match="presigned uploads need S3"):
        await storage.presigned_upload(new_key("takes", ".mp4"), max_bytes=10)


async def test_local_write_leaves_no_temp_files(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "root")
    key = new_key("takes", ".mp4")
    await storage.put_bytes(key, PAYLOAD)
    files = [p for p in storage.root.rglob("*") if p.is_file()]
    assert files == [storage.path_for(key)]


async def test_s3_objects_live_under_the_prefix_with_their_content_type(s3_endpoint: str) -> None:
    storage = await make_s3_storage(s3_endpoint, prefix="tenant-a/media")
    key = new_key("takes", ".mp4")
    await storage.put_bytes(key, b"data", content_type="video/mp4")
    head = await asyncio.to_thread(
        storage.client.head_object, Bucket=storage.bucket, Key=f"tenant-a/media/{key}"
    )
    assert head["ContentType"] == "video/mp4"
    listed = await asyncio.to_thread(storage.client.list_objects_v2, Bucket=storage.bucket)
    assert [item["Key"] for item in listed["Contents"]] == [f"tenant-a/media/{key}"]


def _post_form(url: str, fields: dict[str, str], data: bytes) -> httpx.Response:
    return httpx.post(url, data=fields, files={"file": ("upload.mp4", data)}, timeout=10)


async def test_presigned_upload_accepts_a_file_within_the_limit(s3_endpoint: str) -> None:
    storage = await make_s3_storage(s3_endpoint)
    key = new_key("uploads", ".mp4")
    form = await storage.presigned_upload(key, max_bytes=1000, content_type="video/mp4")
    response = await asyncio.to_thread(_post_form, form["url"], form["fields"], b"v" * 1000)
    assert response.status_code in (200, 201, 204), response.text
    assert await storage.get_bytes(key) == b"v" * 1000


async def test_presigned_upload_policy_limits_the_size(s3_endpoint: str) -> None:
    storage = await make_s3_storage(s3_endpoint)
    key = new_key("uploads", ".mp4")
    form = await storage.presigned_upload(key, max_bytes=1234, expires_s=120)
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    assert ["content-length-range", 1, 1234] in policy["conditions"]
    assert {"key": storage.object_key(key)} in policy["conditions"]
    assert form["max_bytes"] == 1234


@pytest.mark.xfail(
    strict=True,
    reason="moto does not enforce content-length-range; AWS S3 answers 400 EntityTooLarge. "
    "The policy itself is checked in test_presigned_upload_policy_limits_the_size.",
)
async def test_presigned_upload_refuses_a_file_over_the_limit(s3_endpoint: str) -> None:
    storage = await make_s3_storage(s3_endpoint)
    key = new_key("uploads", ".mp4")
    form = await storage.presigned_upload(key, max_bytes=100)
    response = await asyncio.to_thread(_post_form, form["url"], form["fields"], b"x" * 101)
    assert response.status_code == 400
    assert not await storage.exists(key)


def test_new_key_format() -> None:
    key = new_key("takes", ".mp4")
    match = re.fullmatch(r"takes/(\d{4})/(\d{2})/([0-9a-z]{26})\.mp4", key)
    assert match, key
    made = id_time(match.group(3))
    assert (match.group(1), match.group(2)) == (f"{made:%Y}", f"{made:%m}")
    assert new_key("a/b", "").startswith("a/b/")
    assert new_key("takes", ".tar.gz").endswith(".tar.gz")
    assert new_key("takes") != new_key("takes")


@pytest.mark.parametrize("suffix", ["mp4", ".MP4", "../x", ".mp4/../../x", ". mp4", ".a.b.c"])
def test_new_key_refuses_suffixes_outside_the_allow_list(suffix: str) -> None:
    with pytest.raises(InvalidKey):
        new_key("takes", suffix)


@pytest.mark.parametrize("prefix", ["", "/", "../up", "a/../b", "a b"])
def test_new_key_refuses_bad_prefixes(prefix: str) -> None:
    with pytest.raises(InvalidKey):
        new_key(prefix, ".mp4")


def test_open_storage_chooses_the_backend(tmp_path: Path) -> None:
    local = open_storage(tmp_path.as_uri() + "/objects")
    assert isinstance(local, LocalStorage) and local.root == (tmp_path / "objects").resolve()
    plain = open_storage(str(tmp_path / "plain"))
    assert isinstance(plain, LocalStorage) and plain.root.is_dir()
    s3 = open_storage("s3://bucket/some/prefix/", endpoint_url="http://127.0.0.1:1")
    assert isinstance(s3, S3Storage)
    assert (s3.bucket, s3.prefix) == ("bucket", "some/prefix")
    assert s3.object_key("k/v.mp4") == "some/prefix/k/v.mp4"
    with pytest.raises(ValueError):
        open_storage("ftp://host/dir")
    with pytest.raises(ValueError):
        open_storage("s3:///no-bucket")
