"""Pure pieces of the catalog: etags, update masks, take filters, row-to-message conversion."""

from __future__ import annotations

import math

import grpc
import pytest

from editbay.catalog.v1 import catalog_service_pb2 as pb
from editbay_catalog.resources import etag, media_facts, take_analysis
from editbay_catalog.servicer import _changes, _take_filters
from editbay_catalog.store import check_etag
from editbay_common.errors import ServiceError


def test_etags_change_with_every_revision_and_differ_between_resources() -> None:
    tags = {etag("shows/a", revision) for revision in range(1, 50)}
    assert len(tags) == 49
    assert etag("shows/a", 3) == etag("shows/a", 3)
    assert etag("shows/a", 3) != etag("shows/b", 3)


def test_check_etag_accepts_empty_or_current_and_aborts_otherwise() -> None:
    check_etag("shows/a", "", 4)
    check_etag("shows/a", etag("shows/a", 4), 4)
    with pytest.raises(ServiceError) as caught:
        check_etag("shows/a", etag("shows/a", 3), 4)
    assert caught.value.code == grpc.StatusCode.ABORTED
    assert caught.value.metadata["etag"] == etag("shows/a", 4)


def test_update_mask_paths() -> None:
    show = pb.Show(display_name=" New ", description="D")
    assert _changes(show, ["display_name"], "show") == {"display_name": "New"}
    assert _changes(show, ["*"], "show") == {"display_name": "New", "description": "D"}
    assert _changes(pb.Show(description="only"), [], "show") == {"description": "only"}
    with pytest.raises(ServiceError) as caught:
        _changes(show, ["display_name", "create_time"], "show")
    assert caught.value.metadata["field"] == "update_mask"
    with pytest.raises(ServiceError) as caught:
        _changes(pb.Episode(display_name=""), ["display_name"], "episode")
    assert caught.value.metadata["field"] == "episode.display_name"


def test_take_filters() -> None:
    assert _take_filters("") == {}
    assert _take_filters("scene_number = 2") == {"scene_number": 2}
    assert _take_filters('state = READY AND scene_number = "12"') == {
        "state": "READY",
        "scene_number": 12,
    }
    for bad in ("scene_number = -1", "state = STATE_UNSPECIFIED", "take_number = 1", "state"):
        with pytest.raises(ServiceError) as caught:
            _take_filters(bad)
        assert caught.value.metadata["field"] == "filter"


def test_stored_media_and_analysis_become_messages() -> None:
    media = {
        "container": "mov,mp4,m4a,3gp,3g2,mj2",
        "duration_s": 2.5,
        "size_bytes": 10,
        "stream_count": 2,
        "video": {
            "codec": "h264",
            "width": 320,
            "height": 180,
            "fps": 25.0,
            "rotation": 90,
            "variable_frame_rate": True,
            "keyframe_interval_s": 2.0,
        },
        "audio": {"codec": "aac", "channels": 2, "sample_rate": 48000},
    }
    facts = media_facts(media)
    assert (facts.video_codec, facts.width, facts.height, facts.rotation) == ("h264", 320, 180, 90)
    assert (facts.audio_codec, facts.audio_channels, facts.audio_sample_rate) == ("aac", 2, 48000)
    assert facts.variable_frame_rate and facts.keyframe_interval_seconds == 2.0
    assert media_facts({**media, "audio": None}).audio_codec == ""
    unknown = media_facts({**media, "video": {**media["video"], "keyframe_interval_s": None}})
    assert unknown.keyframe_interval_seconds == 0.0
    # Without those two facts a row still reads, with them as unknown.
    later = ("variable_frame_rate", "keyframe_interval_s")
    older = {k: v for k, v in media["video"].items() if k not in later}
    assert media_facts({**media, "video": older}) == pb.MediaFacts(
        container=media["container"], duration_seconds=2.5, video_codec="h264", width=320,
        height=180, frame_rate=25.0, rotation=90, audio_codec="aac", audio_channels=2,
        audio_sample_rate=48000,
    )  # fmt: skip
    sound_only = media_facts({**media, "video": None})
    assert sound_only.keyframe_interval_seconds == 0.0 and not sound_only.variable_frame_rate

    analysis = take_analysis(
        {
            "silence": {
                "duration_s": 2.5,
                "speech": [{"start_s": 0.1, "end_s": 1.0}],
                "pauses": [{"start_s": 1.0, "end_s": 2.5}],
            },
            "loudness": {"integrated_lufs": None, "range_lu": None, "true_peak_dbtp": -3.0},
            "thumbnail_key": "thumbnails/x.jpg",
            "proxy_key": "proxies/x.mp4",
            "contact_sheet_key": "contact-sheets/x.jpg",
        }
    )
    assert [(i.start_seconds, i.end_seconds) for i in analysis.speech] == [(0.1, 1.0)]
    assert math.isinf(analysis.integrated_loudness_lufs) and analysis.integrated_loudness_lufs < 0
    assert analysis.true_peak_dbtp == -3.0 and analysis.thumbnail_key == "thumbnails/x.jpg"
    assert analysis.proxy_key == "proxies/x.mp4"
    assert analysis.contact_sheet_key == "contact-sheets/x.jpg"
    silent_video = take_analysis({"thumbnail_key": ""})
    assert silent_video.integrated_loudness_lufs == 0.0 and not silent_video.speech
    # A take stored before there were previews: no keys at all.
    assert (silent_video.proxy_key, silent_video.contact_sheet_key) == ("", "")
