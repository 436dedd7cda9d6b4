"""Thinking told apart from the answer in text that carries it inline, whatever the chunking."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from request_llms.thinking import Rethought, ThinkSplitter, Thought, split_thinking

WORDS = st.text(alphabet=st.sampled_from("abc xyz.,!?\n<>/`中文"), max_size=60) | st.lists(
    st.sampled_from(["<think>", "</think>", "<th", "ink>", "</", "`", "a b", "\n", "中文", " "]), max_size=12
).map("".join)
PLAIN = st.text(alphabet=st.sampled_from("abc xyz.,!?中文"), min_size=1, max_size=60).filter(lambda t: t.strip())


def streamed(text: str, cuts: list[int], prefilled: bool = False) -> tuple[str, str]:
    """(thinking, answer) as a reader of the stream sees them, the text cut at `cuts`."""
    splitter = ThinkSplitter(prefilled)
    points = sorted({min(c, len(text)) for c in cuts})
    chunks = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    thinking, answer = "", ""
    for chunk in chunks:
        for piece in splitter.feed(chunk):
            if isinstance(piece, Rethought):
                thinking, answer = thinking + answer, ""
            elif isinstance(piece, Thought):
                thinking += piece.text
            else:
                answer += piece
    for piece in splitter.close():
        if isinstance(piece, Thought):
            thinking += piece.text
        else:
            answer += piece
    return thinking, answer


@given(thought=PLAIN, answer=PLAIN, cuts=st.lists(st.integers(0, 200), max_size=12))
def test_a_thought_then_an_answer_come_apart_however_the_text_is_cut(thought, answer, cuts):
    text = f"<think>{thought}</think>\n\n{answer}"
    assert streamed(text, cuts) == (thought, answer.lstrip("\n"))


@given(thought=PLAIN, answer=PLAIN, cuts=st.lists(st.integers(0, 200), max_size=12), told=st.booleans())
def test_a_thought_the_template_opened_ends_at_its_closing_tag(thought, answer, cuts, told):
    text = f"{thought}</think>{answer}"
    assert streamed(text, cuts, prefilled=told) == (thought, answer.lstrip("\n"))


@given(thought=PLAIN, cuts=st.lists(st.integers(0, 200), max_size=12))
def test_a_thought_cut_by_the_length_limit_stays_a_thought(thought, cuts):
    assert streamed(f"<think>{thought}", cuts) == (thought, "")


@given(text=WORDS, cuts=st.lists(st.integers(0, 200), max_size=12), told=st.booleans())
def test_the_chunking_never_changes_the_result(text, cuts, told):
    assert streamed(text, cuts, prefilled=told) == split_thinking(text, prefilled=told)


@given(text=PLAIN, cuts=st.lists(st.integers(0, 200), max_size=12))
def test_text_without_tags_is_all_answer(text, cuts):
    assert streamed(text, cuts) == ("", text)


def test_tags_inside_the_answer_stay_answer_text():
    assert split_thinking("<think>plan</think>Close it with `</think>` like <think>.") == (
        "plan",
        "Close it with `</think>` like <think>.",
    )
    code = "Here:\n```xml\n<reply></think></reply>\n```\n"
    assert split_thinking(code) == ("", code)
    assert split_thinking("`x` and then </think> later") == ("", "`x` and then </think> later")
