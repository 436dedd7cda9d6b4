"""A long conversation meets a small context window: the oldest turns go, with a notice; a prompt too big alone is refused."""

from __future__ import annotations

import pytest

from request_llms.errors import ContextTooLong
from request_llms.messages import build_messages, estimate_tokens, turns_from_history


def test_system_history_and_prompt_become_messages_in_order():
    built = build_messages(turns_from_history("q3", ["q1", "a1", "q2", "a2"]), system="be brief")
    assert [m["role"] for m in built.messages] == ["system", "user", "assistant", "user", "assistant", "user"]
    assert [m["content"] for m in built.messages][1:] == ["q1", "a1", "q2", "a2", "q3"]
    assert built.dropped_turns == 0 and built.notice() == ""


def test_an_unanswered_question_left_in_history_is_not_sent():
    built = build_messages(turns_from_history("q2", ["q1", "a1", "dangling"]))
    assert [m["content"] for m in built.messages] == ["q1", "a1", "q2"]


def test_the_oldest_turns_are_dropped_to_fit_the_budget_with_a_notice():
    history = [item for i in range(10) for item in (f"question {i} " + "x" * 300, f"answer {i} " + "y" * 300)]
    built = build_messages(turns_from_history("last question", history), budget=800, reserve=100)
    assert built.tokens <= 700
    assert 0 < built.dropped_turns < 10
    kept = [m["content"] for m in built.messages]
    assert kept[-1] == "last question" and kept[-2].startswith("answer 9")
    assert "最早的" in built.notice("zh") and "oldest" in built.notice("en")


def test_a_prompt_that_cannot_fit_alone_is_refused_with_both_sizes():
    with pytest.raises(ContextTooLong) as caught:
        build_messages(turns_from_history("z" * 3000), budget=512, reserve=128)
    assert "512" in caught.value.en and "1004" in caught.value.en  # 1000 for the text, 4 for the message


def test_the_estimate_counts_chinese_characters_one_by_one_and_stays_high_for_english():
    assert estimate_tokens("本地学术助手") == 6
    assert estimate_tokens("a" * 300) == 100


def test_role_turns_are_trimmed_by_whole_exchanges_and_never_when_kept():
    turns = [
        {"role": "user", "content": "q1 " + "x" * 600},
        {"role": "assistant", "content": "a1"},
        {"role": "assistant", "content": "a1 again"},
        {"role": "user", "content": "q2"},
        {"role": "assistant", "content": "a2"},
        {"role": "user", "content": "q3"},
    ]
    built = build_messages(turns, budget=150)
    assert [m["content"] for m in built.messages] == ["q2", "a2", "q3"] and built.dropped_turns == 1
    with pytest.raises(ContextTooLong):
        build_messages(turns, budget=150, keep_all=True)
    whole = build_messages(turns, keep_all=True).messages
    assert [m["role"] for m in whole] == ["user", "assistant", "user", "assistant", "user"]
    assert whole[1]["content"] == "a1\n\na1 again"


def test_many_turns_of_one_role_in_a_row_become_one_message():
    turns = [{"role": "user", "content": "word"} for _ in range(100_000)]
    built = build_messages(turns, keep_all=True)
    assert len(built.messages) == 1 and built.messages[0]["content"].count("word") == 100_000
