"""Scripts split into scenes."""

from __future__ import annotations

import pytest

from editbay_catalog.scripts import ParsedScene, ScriptError, parse_heading, parse_script


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("SCENE 2: The kitchen", (2, "The kitchen")),
        ("Scene 2 - Kitchen", (2, "Kitchen")),
        ("scene 3. Garden", (3, "Garden")),
        ("## Scene 2", (2, "")),
        ("# SCENE 10 \u2014 Night", (10, "Night")),
        ("  Scene 4:", (4, "")),
    ],
)
def test_headings(line: str, expected: tuple[int, str]) -> None:
    assert parse_heading(line) == expected


@pytest.mark.parametrize(
    "line", ["Scene 2 was great", "INT. KITCHEN - DAY", "The scene 2: no", "Scene two", ""]
)
def test_not_headings(line: str) -> None:
    assert parse_heading(line) is None


def test_scenes_in_order_with_their_text() -> None:
    text = "SCENE 1: Intro\nHello there.\n\nWelcome.\n\n## Scene 2 - Kitchen\nWe cook.\n"
    assert parse_script(text) == [
        ParsedScene(1, "Intro", "Hello there.\n\nWelcome."),
        ParsedScene(2, "Kitchen", "We cook."),
    ]


def test_text_without_headings_is_scene_one() -> None:
    assert parse_script("Just one thing to say.\nAnd another.") == [
        ParsedScene(1, "", "Just one thing to say.\nAnd another.")
    ]


def test_blank_text_has_no_scenes() -> None:
    assert parse_script("") == []
    assert parse_script("\n  \n") == []


def test_text_before_the_first_heading_belongs_to_scene_one() -> None:
    merged = parse_script("Cold open.\nScene 1: Start\nLine.")
    assert merged == [ParsedScene(1, "Start", "Cold open.\n\nLine.")]
    separate = parse_script("Cold open.\nScene 2: Later\nLine.")
    assert separate == [ParsedScene(1, "", "Cold open."), ParsedScene(2, "Later", "Line.")]


def test_gaps_in_numbers_are_allowed() -> None:
    assert [s.number for s in parse_script("Scene 1:\na\nScene 3:\nb")] == [1, 3]


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("Scene 1: a\ntext\nScene 1: again", 3),
        ("Scene 3: a\nScene 2: b", 2),
        ("intro\n\n\nScene 0: zero", 4),
    ],
)
def test_duplicate_or_decreasing_numbers_name_the_line(text: str, line: int) -> None:
    with pytest.raises(ScriptError) as caught:
        parse_script(text)
    assert caught.value.line == line
