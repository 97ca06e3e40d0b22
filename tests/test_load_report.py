"""The load test's memory verdict (benchmarks/load_test.py): a plateau is read from the samples, never assumed."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
import load_test  # noqa: E402 - a script folder, not a package


def samples(minutes: int, level: Callable[[float], float], noise: float = 3.0) -> list[tuple[float, float]]:
    """One RSS sample every 2 s for `minutes` minutes (plus one), around `level(minute)`, with seeded noise."""
    rng = random.Random(7)
    return [(t, level(t / 60) + rng.uniform(-noise, noise)) for t in range(0, minutes * 60 + 2, 2)]


def test_a_climb_that_levels_off_is_flat_in_the_second_half() -> None:
    trend = load_test.rss_trend(samples(40, lambda m: 1300 + 2 * min(m, 15)), warm_up_min=3)
    p = trend["plateau"]
    assert p["first_half"]["slope_mb_per_min"] > 1 and abs(p["second_half"]["slope_mb_per_min"]) < 0.1
    assert p["first_half"]["minutes"] == [3, 20] and p["second_half"]["minutes"] == [21, 39]
    assert p["verdict"] == "flat"
    assert "FLAT" in "\n".join(load_test._trend_lines(trend))


@pytest.mark.parametrize("per_minute", [1.4, 0.3])
def test_a_steady_rise_is_growing_even_when_slow(per_minute: float) -> None:
    trend = load_test.rss_trend(samples(40, lambda m: 1300 + per_minute * m, noise=1.0), warm_up_min=3)
    assert trend["plateau"]["verdict"] == "growing"
    assert trend["plateau"]["second_half"]["slope_mb_per_min"] == pytest.approx(per_minute, abs=0.1)
    assert "STILL GROWING" in "\n".join(load_test._trend_lines(trend))


def test_a_short_run_or_a_noisy_slope_gives_no_verdict() -> None:
    assert load_test.rss_trend(samples(12, lambda m: 1300.0), warm_up_min=3)["plateau"]["verdict"] == "too short"
    rng = random.Random(3)
    lowest = [(float(m), 1300 + 0.5 * m + rng.choice((-15, 15))) for m in range(3, 40)]
    p = load_test.plateau(lowest)
    assert p["verdict"] == "unclear" and p["second_half"]["stderr_mb_per_min"] > 0.25


def test_integrity_lines_up_each_users_answers_with_its_stored_conversation() -> None:
    """Repeated questions (no unique tags) still show a lost turn and a turn stored twice, each in its place."""
    out = load_test.Results()
    out.browsers = {0: "c0", 1: "c1"}
    out.chats_sent = {0: ["A", "B", "A"], 1: ["A", "A"]}
    out.chats_answered = {0: ["A", "B", "A"], 1: ["A", "A"]}
    whole = load_test.chat_integrity(out, {"c0": ["A", "B", "A"], "c1": ["A", "A"]})
    assert (whole["stored_exactly_once"], whole["lost"], whole["stored_twice"]) == (5, [], [])
    broken = load_test.chat_integrity(out, {"c0": ["A", "A"], "c1": ["A", "A", "A"]})
    assert broken["stored_exactly_once"] == 4
    assert broken["lost"] == ["u0 turn 2: B"]
    assert broken["stored_twice"] == ["u1 stored 3: A"]


def test_page_check_wants_the_question_last_and_answered() -> None:
    from assistant27.webapp import render_chat

    q = "Qu'est-ce que La 27e Région ?"
    assert not load_test.answered_on_page(render_chat([], pending_question=q, pending_text="La 27e"), q)
    assert not load_test.answered_on_page(render_chat([], pending_question=q, error="Une erreur"), q)
    assert not load_test.answered_on_page(render_chat([]), q)
    from assistant27.conversations import Turn

    earlier = Turn(1, "c", {"question": "Qu'est-ce que La Transfo ?", "answer": "Un programme.", "citations": []})
    done = Turn(2, "c", {"question": q, "answer": "Un laboratoire.", "citations": []})
    assert load_test.answered_on_page(render_chat([earlier, done]), q)
    assert not load_test.answered_on_page(render_chat([done, earlier]), q)
