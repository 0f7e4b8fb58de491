"""Shows, episodes, scripts and scenes over a real gRPC socket (SQLite, in-process broker)."""

from __future__ import annotations

import grpc
from google.protobuf.field_mask_pb2 import FieldMask

from editbay.catalog.v1 import catalog_service_pb2 as pb

Code = grpc.StatusCode


def show_request(
    display_name: str, show_id: str = "", request_id: str = ""
) -> pb.CreateShowRequest:
    return pb.CreateShowRequest(
        show=pb.Show(display_name=display_name), show_id=show_id, request_id=request_id
    )


async def test_create_and_get_show(catalog, expect) -> None:
    created = await catalog.stub.CreateShow(show_request("Kitchen Talks", "kitchen-talks"))
    assert created.name == "shows/kitchen-talks"
    assert created.etag and created.create_time.seconds > 0
    assert not created.HasField("delete_time")
    assert await catalog.stub.GetShow(pb.GetShowRequest(name=created.name)) == created

    info = await expect(
        catalog.stub.CreateShow(show_request("Again", "kitchen-talks")), Code.ALREADY_EXISTS
    )
    assert info.reason == "SHOW_ALREADY_EXISTS"
    info = await expect(catalog.stub.GetShow(pb.GetShowRequest(name="shows/nope")), Code.NOT_FOUND)
    assert info.reason == "SHOW_NOT_FOUND"


async def test_server_made_ids_and_request_id_idempotency(catalog) -> None:
    first = await catalog.stub.CreateShow(show_request("A", request_id="req-1"))
    again = await catalog.stub.CreateShow(show_request("A", request_id="req-1"))
    other = await catalog.stub.CreateShow(show_request("A", request_id="req-2"))
    assert first == again
    assert other.name != first.name
    listed = await catalog.stub.ListShows(pb.ListShowsRequest())
    assert len(listed.shows) == 2


async def test_invalid_create_requests_name_the_field(catalog, expect) -> None:
    cases = [
        (show_request("X", "Bad_Id"), "show_id"),
        (show_request("   "), "show.display_name"),
        (show_request("x" * 201), "show.display_name"),
    ]
    for request, field in cases:
        info = await expect(catalog.stub.CreateShow(request), Code.INVALID_ARGUMENT)
        assert info.metadata["field"] == field
    info = await expect(
        catalog.stub.GetShow(pb.GetShowRequest(name="episodes/x")), Code.INVALID_ARGUMENT
    )
    assert info.metadata["field"] == "name"


async def test_list_shows_pages_filters_and_orders(catalog, expect) -> None:
    names = ["Delta", "Alpha", "Echo", "Charlie", "Bravo"]
    for name in names:
        await catalog.stub.CreateShow(show_request(name, name.lower()))

    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await catalog.stub.ListShows(pb.ListShowsRequest(page_size=2, page_token=token))
        seen += [s.display_name for s in page.shows]
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert pages == 3
    assert seen == list(reversed(names))  # newest first by default

    by_name = await catalog.stub.ListShows(pb.ListShowsRequest(order_by="display_name"))
    assert [s.display_name for s in by_name.shows] == sorted(names)
    by_name_desc = await catalog.stub.ListShows(pb.ListShowsRequest(order_by="display_name desc"))
    assert [s.display_name for s in by_name_desc.shows] == sorted(names, reverse=True)

    filtered = await catalog.stub.ListShows(pb.ListShowsRequest(filter='display_name = "Echo"'))
    assert [s.name for s in filtered.shows] == ["shows/echo"]

    first = await catalog.stub.ListShows(pb.ListShowsRequest(page_size=2))
    changed_query = pb.ListShowsRequest(
        page_size=2, page_token=first.next_page_token, order_by="display_name"
    )
    info = await expect(catalog.stub.ListShows(changed_query), Code.INVALID_ARGUMENT)
    assert info.metadata["field"] == "page_token"
    info = await expect(
        catalog.stub.ListShows(pb.ListShowsRequest(filter='owner = "x"')), Code.INVALID_ARGUMENT
    )
    assert info.metadata["field"] == "filter"
    info = await expect(
        catalog.stub.ListShows(pb.ListShowsRequest(order_by="etag")), Code.INVALID_ARGUMENT
    )
    assert info.metadata["field"] == "order_by"


async def test_update_show_with_mask_and_etag(catalog, expect) -> None:
    show = await catalog.stub.CreateShow(show_request("Old", "show-1"))
    update = pb.UpdateShowRequest(
        show=pb.Show(name=show.name, display_name="New", description="ignored"),
        update_mask=FieldMask(paths=["display_name"]),
    )
    updated = await catalog.stub.UpdateShow(update)
    assert (updated.display_name, updated.description) == ("New", "")
    assert updated.etag != show.etag

    again = await catalog.stub.UpdateShow(
        pb.UpdateShowRequest(
            show=pb.Show(name=show.name, description="About food", etag=updated.etag),
            update_mask=FieldMask(paths=["description"]),
        )
    )
    assert again.description == "About food" and again.etag != updated.etag

    stale = pb.UpdateShowRequest(
        show=pb.Show(name=show.name, display_name="Stale", etag=show.etag),
        update_mask=FieldMask(paths=["display_name"]),
    )
    info = await expect(catalog.stub.UpdateShow(stale), Code.ABORTED)
    assert info.reason == "ETAG_MISMATCH"

    bad_path = pb.UpdateShowRequest(
        show=pb.Show(name=show.name, display_name="X"), update_mask=FieldMask(paths=["etag"])
    )
    info = await expect(catalog.stub.UpdateShow(bad_path), Code.INVALID_ARGUMENT)
    assert info.metadata["field"] == "update_mask"

    blank = pb.UpdateShowRequest(
        show=pb.Show(name=show.name, display_name=""), update_mask=FieldMask(paths=["display_name"])
    )
    info = await expect(catalog.stub.UpdateShow(blank), Code.INVALID_ARGUMENT)
    assert info.metadata["field"] == "show.display_name"
    current = await catalog.stub.GetShow(pb.GetShowRequest(name=show.name))
    assert current.display_name == "New"


async def test_soft_delete_and_undelete_show(catalog, expect) -> None:
    show = await catalog.stub.CreateShow(show_request("Gone soon", "gone"))
    info = await expect(
        catalog.stub.DeleteShow(pb.DeleteShowRequest(name=show.name, etag='"old"')), Code.ABORTED
    )
    assert info.reason == "ETAG_MISMATCH"

    deleted = await catalog.stub.DeleteShow(pb.DeleteShowRequest(name=show.name, etag=show.etag))
    assert deleted.HasField("delete_time")
    assert (await catalog.stub.ListShows(pb.ListShowsRequest())).shows == []
    with_deleted = await catalog.stub.ListShows(pb.ListShowsRequest(show_deleted=True))
    assert [s.name for s in with_deleted.shows] == [show.name]
    fetched = await catalog.stub.GetShow(pb.GetShowRequest(name=show.name))
    assert fetched.HasField("delete_time")

    create_under = pb.CreateEpisodeRequest(parent=show.name, episode=pb.Episode(display_name="E"))
    info = await expect(catalog.stub.CreateEpisode(create_under), Code.NOT_FOUND)
    assert info.reason == "SHOW_NOT_FOUND"
    await expect(catalog.stub.DeleteShow(pb.DeleteShowRequest(name=show.name)), Code.NOT_FOUND)

    restored = await catalog.stub.UndeleteShow(pb.UndeleteShowRequest(name=show.name))
    assert not restored.HasField("delete_time")
    assert restored.etag not in (show.etag, deleted.etag)
    info = await expect(
        catalog.stub.UndeleteShow(pb.UndeleteShowRequest(name=show.name)), Code.ALREADY_EXISTS
    )
    assert info.reason == "SHOW_NOT_DELETED"
    assert (await catalog.stub.CreateEpisode(create_under)).name.startswith(
        show.name + "/episodes/"
    )


async def test_episode_crud(catalog, expect) -> None:
    missing = pb.CreateEpisodeRequest(parent="shows/none", episode=pb.Episode(display_name="E"))
    info = await expect(catalog.stub.CreateEpisode(missing), Code.NOT_FOUND)
    assert info.reason == "SHOW_NOT_FOUND"

    await catalog.stub.CreateShow(show_request("Show", "s1"))
    names = []
    for number in range(3):
        episode = await catalog.stub.CreateEpisode(
            pb.CreateEpisodeRequest(
                parent="shows/s1",
                episode=pb.Episode(display_name=f"Episode {number}"),
                episode_id=f"e{number}",
                request_id=f"ep-{number}",
            )
        )
        names.append(episode.name)
    repeat = await catalog.stub.CreateEpisode(
        pb.CreateEpisodeRequest(
            parent="shows/s1", episode=pb.Episode(display_name="Other"), request_id="ep-0"
        )
    )
    assert repeat.name == names[0] and repeat.display_name == "Episode 0"
    dup = pb.CreateEpisodeRequest(
        parent="shows/s1", episode=pb.Episode(display_name="D"), episode_id="e1"
    )
    info = await expect(catalog.stub.CreateEpisode(dup), Code.ALREADY_EXISTS)
    assert info.reason == "EPISODE_ALREADY_EXISTS"

    page1 = await catalog.stub.ListEpisodes(
        pb.ListEpisodesRequest(parent="shows/s1", page_size=2, order_by="create_time")
    )
    page2 = await catalog.stub.ListEpisodes(
        pb.ListEpisodesRequest(
            parent="shows/s1", page_size=2, order_by="create_time", page_token=page1.next_page_token
        )
    )
    assert [e.name for e in page1.episodes] + [e.name for e in page2.episodes] == names
    assert page2.next_page_token == ""

    episode = await catalog.stub.GetEpisode(pb.GetEpisodeRequest(name=names[1]))
    updated = await catalog.stub.UpdateEpisode(
        pb.UpdateEpisodeRequest(
            episode=pb.Episode(name=names[1], display_name="Renamed", etag=episode.etag),
            update_mask=FieldMask(paths=["display_name"]),
        )
    )
    assert updated.display_name == "Renamed" and updated.etag != episode.etag
    blank = pb.UpdateEpisodeRequest(
        episode=pb.Episode(name=names[1], display_name=" "),
        update_mask=FieldMask(paths=["display_name"]),
    )
    info = await expect(catalog.stub.UpdateEpisode(blank), Code.INVALID_ARGUMENT)
    assert info.metadata["field"] == "episode.display_name"

    await expect(
        catalog.stub.DeleteEpisode(pb.DeleteEpisodeRequest(name=names[1], etag=episode.etag)),
        Code.ABORTED,
    )
    deleted = await catalog.stub.DeleteEpisode(
        pb.DeleteEpisodeRequest(name=names[1], etag=updated.etag)
    )
    assert deleted.HasField("delete_time")
    live = await catalog.stub.ListEpisodes(pb.ListEpisodesRequest(parent="shows/s1"))
    assert names[1] not in [e.name for e in live.episodes] and len(live.episodes) == 2
    everything = await catalog.stub.ListEpisodes(
        pb.ListEpisodesRequest(parent="shows/s1", show_deleted=True)
    )
    assert len(everything.episodes) == 3
    info = await expect(
        catalog.stub.GetEpisode(pb.GetEpisodeRequest(name="shows/s1/episodes/nope")), Code.NOT_FOUND
    )
    assert info.reason == "EPISODE_NOT_FOUND"


SCRIPT = """# The pilot
SCENE 1: Intro
Hello there.

## Scene 2 - Kitchen
We cook pasta.
Scene 4: Outro
Goodbye.
"""


async def test_script_rebuilds_scenes(catalog, expect) -> None:
    episode = await catalog.make_episode()
    script_name = f"{episode}/script"
    empty = await catalog.stub.GetScript(pb.GetScriptRequest(name=script_name))
    assert (empty.text, empty.scene_count) == ("", 0)
    assert (await catalog.stub.ListScenes(pb.ListScenesRequest(parent=episode))).scenes == []

    script = await catalog.stub.UpdateScript(
        pb.UpdateScriptRequest(
            script=pb.Script(name=script_name, text=SCRIPT), update_mask=FieldMask(paths=["text"])
        )
    )
    assert script.scene_count == 3 and script.etag != empty.etag and script.text == SCRIPT
    scenes = (await catalog.stub.ListScenes(pb.ListScenesRequest(parent=episode))).scenes
    assert [(s.number, s.heading) for s in scenes] == [(1, "Intro"), (2, "Kitchen"), (4, "Outro")]
    assert scenes[0].text == "# The pilot\n\nHello there."
    assert scenes[1].name == f"{episode}/scenes/2"
    assert all(s.ready_take_count == 0 for s in scenes)
    scene = await catalog.stub.GetScene(pb.GetSceneRequest(name=f"{episode}/scenes/4"))
    assert scene.text == "Goodbye."
    first_page = await catalog.stub.ListScenes(pb.ListScenesRequest(parent=episode, page_size=2))
    assert [s.number for s in first_page.scenes] == [1, 2] and first_page.next_page_token

    # Replacing the text replaces the scenes.
    await catalog.stub.UpdateScript(
        pb.UpdateScriptRequest(script=pb.Script(name=script_name, text="Just talk."))
    )
    scenes = (await catalog.stub.ListScenes(pb.ListScenesRequest(parent=episode))).scenes
    assert [(s.number, s.text) for s in scenes] == [(1, "Just talk.")]
    info = await expect(
        catalog.stub.GetScene(pb.GetSceneRequest(name=f"{episode}/scenes/4")), Code.NOT_FOUND
    )
    assert info.reason == "SCENE_NOT_FOUND"


async def test_invalid_scripts_are_rejected_with_the_line(catalog, expect) -> None:
    episode = await catalog.make_episode()
    name = f"{episode}/script"
    before = await catalog.stub.GetScript(pb.GetScriptRequest(name=name))
    bad = pb.UpdateScriptRequest(
        script=pb.Script(name=name, text="Scene 1: a\nline\nScene 1: again")
    )
    info = await expect(catalog.stub.UpdateScript(bad), Code.INVALID_ARGUMENT)
    assert info.metadata["field"] == "script.text"
    assert info.metadata["line"] == "3"
    decreasing = pb.UpdateScriptRequest(
        script=pb.Script(name=name, text="Scene 3:\nx\nScene 2:\ny")
    )
    info = await expect(catalog.stub.UpdateScript(decreasing), Code.INVALID_ARGUMENT)
    assert info.metadata["line"] == "3"
    mask = pb.UpdateScriptRequest(
        script=pb.Script(name=name, text="x"), update_mask=FieldMask(paths=["scene_count"])
    )
    info = await expect(catalog.stub.UpdateScript(mask), Code.INVALID_ARGUMENT)
    assert info.metadata["field"] == "update_mask"
    stale = pb.UpdateScriptRequest(script=pb.Script(name=name, text="x", etag='"nope"'))
    await expect(catalog.stub.UpdateScript(stale), Code.ABORTED)
    assert await catalog.stub.GetScript(pb.GetScriptRequest(name=name)) == before
