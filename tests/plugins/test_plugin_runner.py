"""The plugins' shared machinery on a real llama-server (4 slots of 1024 tokens): pieces cut to the
model's real window, run in parallel up to the server's limit, Stop keeping what was finished."""

from __future__ import annotations

import pytest

from crazy_functions.documents.split import split_text
from crazy_functions.runtime.parallel import DONE, STOPPED, Piece, ask_in_parallel
from crazy_functions.runtime.pieces import sizer_for
from crazy_functions.runtime.session import PluginChatbot
from request_llms.tokens import ESTIMATE
from tests.support.plugin_support import LLAMA_SLOT_TOKENS, make_chatbot

PARAGRAPH = (
    "Transformers process tokens in parallel with self-attention. The cost grows with the square of the "
    "sequence length, which limits the context window of small local models. "
)


def _run(chatbot: PluginChatbot, pieces, llm_kwargs, watch=None, **kwargs):
    runner = ask_in_parallel(chatbot, [], pieces, llm_kwargs, **kwargs)
    while True:
        try:
            next(runner)
        except StopIteration as done:
            return done.value
        if watch:
            watch()


def test_pieces_run_in_parallel_up_to_the_servers_slots(llama_kwargs, llama_server, tmp_path):
    chatbot = make_chatbot(tmp_path)
    pieces = [Piece(f"Write one sentence about the number {i}.", max_tokens=32) for i in range(10)]
    busy = []
    result = _run(chatbot, pieces, llama_kwargs, watch=lambda: busy.append(llama_server.busy_slots()))
    assert [p.state for p in result] == [DONE] * 10
    assert all(p.answer.strip() for p in result)
    assert max(busy) >= 2, f"never more than one piece at a time: {busy}"
    assert max(busy) <= 4
    assert "10" in chatbot[-1][1] and "完成 10" in chatbot[-1][1]


def test_stop_keeps_the_finished_pieces_and_the_server_goes_idle(llama_kwargs, llama_server, tmp_path):
    chatbot = make_chatbot(tmp_path, lang="en")
    pieces = [Piece(f"Count from {i} to {i + 200}, one number per line.", max_tokens=200) for i in range(12)]

    def stop_after_two():
        if sum(p.state == DONE for p in pieces) >= 2:
            chatbot.cancel.cancel()

    result = _run(chatbot, pieces, llama_kwargs, watch=stop_after_two)
    done = [p for p in result if p.state == DONE]
    assert len(done) >= 2 and all(p.answer for p in done)
    assert any(p.state == STOPPED for p in result)
    assert {p.state for p in result} <= {DONE, STOPPED}
    assert llama_server.wait_idle(5), "the server kept generating after Stop"
    assert "stopped" in chatbot[-1][1]


def test_a_long_text_is_cut_to_the_real_window_and_no_request_overflows_it(llama_kwargs, tmp_path):
    chatbot = make_chatbot(tmp_path)
    instruction = "Summarise this part of a paper in one sentence.\n\n"
    sizer = sizer_for(llama_kwargs, chatbot.config, instruction, answer=64)
    assert sizer.counter.exact, "llama-server's own tokenizer was not used"
    assert sizer.window == LLAMA_SLOT_TOKENS
    text = "\n\n".join(f"## Section {i}\n\n" + PARAGRAPH * (i % 5 + 1) for i in range(30))
    parts = sizer.split(text)
    assert "".join(parts) == text and len(parts) > 1
    pieces = [Piece(instruction + part, max_tokens=sizer.answer_tokens) for part in parts]
    result = _run(chatbot, pieces, llama_kwargs, count=sizer.counter)
    assert all(p.state == DONE for p in result)
    for piece in result:
        assert piece.prompt_tokens is not None
        assert piece.prompt_tokens + sizer.answer_tokens <= LLAMA_SLOT_TOKENS
    # the estimate would have cut the same text into more, smaller pieces
    estimated = len(split_text(text, sizer.piece_tokens, ESTIMATE))
    assert estimated >= len(parts)


def test_a_window_too_small_for_the_instruction_is_refused_in_both_languages(llama_kwargs, tmp_path):
    chatbot = make_chatbot(tmp_path)
    with pytest.raises(Exception) as caught:
        sizer_for(llama_kwargs, chatbot.config, "word " * 2000, answer=64)
    assert "上下文窗口" in caught.value.text("zh") and "context window" in caught.value.text("en")
