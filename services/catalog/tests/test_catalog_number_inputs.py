"""Numbers a client types into names and filters (scene numbers): bad ones are
INVALID_ARGUMENT naming the field, never an INTERNAL error from int() or the database."""

from __future__ import annotations

import pytest
from grpc import StatusCode as Code

from editbay.catalog.v1 import catalog_service_pb2 as pb


@pytest.mark.parametrize("scene", ["99999999999999999999", "0x1"])
async def test_get_scene_with_an_impossible_number(catalog, expect, scene: str) -> None:
    episode = await catalog.make_episode()
    info = await expect(
        catalog.stub.GetScene(pb.GetSceneRequest(name=f"{episode}/scenes/{scene}")),
        Code.INVALID_ARGUMENT,
    )
    assert info.metadata["field"] == "name"


async def test_get_scene_that_does_not_exist_is_not_found(catalog, expect) -> None:
    episode = await catalog.make_episode()
    info = await expect(
        catalog.stub.GetScene(pb.GetSceneRequest(name=f"{episode}/scenes/7")), Code.NOT_FOUND
    )
    assert info.reason == "SCENE_NOT_FOUND"


@pytest.mark.parametrize("value", ["\u00b2", '"\u0663"', "99999999999999999999", "-1", "x"])
async def test_take_filter_scene_number_must_be_a_plain_number(catalog, expect, value) -> None:
    episode = await catalog.make_episode()
    request = pb.ListTakesRequest(parent=episode, filter=f"scene_number = {value}")
    info = await expect(catalog.stub.ListTakes(request), Code.INVALID_ARGUMENT)
    assert info.metadata["field"] == "filter"


async def test_take_filter_scene_number_accepts_a_number(catalog) -> None:
    episode = await catalog.make_episode()
    request = pb.ListTakesRequest(parent=episode, filter="scene_number = 2")
    assert list((await catalog.stub.ListTakes(request)).takes) == []
