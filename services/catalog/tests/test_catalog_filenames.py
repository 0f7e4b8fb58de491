"""File names of takes: scene and take numbers, display names, stored extensions."""

from __future__ import annotations

import pytest

from editbay_catalog.filenames import (
    TakeNumbers,
    display_name,
    numbers_from_filename,
    resolve_numbers,
    stored_suffix,
)


@pytest.mark.parametrize(
    ("filename", "scene", "take"),
    [
        ("S02_T03.mp4", 2, 3),
        ("s2_t3.mov", 2, 3),
        ("S02T03.mp4", 2, 3),
        ("scene2_take3.mp4", 2, 3),
        ("Scene_12_Take_4.MOV", 12, 4),
        ("Kitchen - Scene 2 Take 3.mov", 2, 3),
        ("kitchen_S10-T01_final.mkv", 10, 1),
        ("S2.T7.wav", 2, 7),
        ("clips/day1/S03_T02.mp4", 3, 2),
        ("C:\\footage\\S04_T05.mp4", 4, 5),
    ],
)
def test_numbers_are_read_from_common_camera_names(filename: str, scene: int, take: int) -> None:
    assert numbers_from_filename(filename) == TakeNumbers(scene, take)


@pytest.mark.parametrize(
    "filename", ["interview.mp4", "shows2_t3.mp4", "S02.mp4", "T03.mp4", "", "S00_T00.mp4"]
)
def test_names_without_both_numbers_give_nothing(filename: str) -> None:
    parsed = numbers_from_filename(filename)
    assert parsed.scene is None or parsed.take is None


def test_explicit_numbers_override_the_file_name() -> None:
    assert resolve_numbers("S02_T03.mp4", 5, 0) == TakeNumbers(5, 3)
    assert resolve_numbers("S02_T03.mp4", 0, 9) == TakeNumbers(2, 9)
    assert resolve_numbers("clip.mp4", 4, 1) == TakeNumbers(4, 1)
    assert resolve_numbers("clip.mp4", 0, 0) == TakeNumbers(None, None)


def test_display_name_drops_client_paths() -> None:
    assert display_name("../../etc/S01_T01.mp4") == "S01_T01.mp4"
    assert display_name("C:\\Users\\me\\S01_T01.mp4") == "S01_T01.mp4"
    assert len(display_name("a" * 1000)) == 255


@pytest.mark.parametrize(
    ("container", "filename", "suffix"),
    [
        ("mov,mp4,m4a,3gp,3g2,mj2", "S01_T01.mp4", ".mp4"),
        ("mov,mp4,m4a,3gp,3g2,mj2", "S01_T01.MOV", ".mov"),
        ("mov,mp4,m4a,3gp,3g2,mj2", "S01_T01.exe", ".mp4"),
        ("matroska,webm", "S01_T01.mp4", ".mkv"),
        ("matroska,webm", "S01_T01.webm", ".webm"),
        ("wav", "S01_T01.mp4", ".wav"),
        ("mpegts", "S01_T01.ts", ".ts"),
    ],
)
def test_stored_suffix_follows_the_probed_container(
    container: str, filename: str, suffix: str
) -> None:
    assert stored_suffix(container, filename) == suffix
