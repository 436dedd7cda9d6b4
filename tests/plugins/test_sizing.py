"""Pieces sized for a model that may think: its thoughts count in the answer's length, so the answer gets room."""

from __future__ import annotations

from crazy_functions.runtime.pieces import THINKING_BUDGET, sizer_for
from tests.support.helpers import make_config

MODEL = "ollama-qwen3:8b(max_token=8192)"  # the window is in the brackets: nothing is asked of a server


def test_a_model_allowed_to_think_gets_room_for_its_thoughts(tmp_path):
    off = make_config(tmp_path, PLUGIN_THINKING="false")
    on = make_config(tmp_path, PLUGIN_THINKING="true")
    plain = sizer_for({"llm_model": MODEL}, off, "Summarise this.", answer=512)
    thinking = sizer_for({"llm_model": MODEL}, on, "Summarise this.", answer=512)
    assert thinking.answer_tokens == plain.answer_tokens + THINKING_BUDGET
    assert thinking.piece_tokens == plain.piece_tokens - THINKING_BUDGET
    by_name = sizer_for({"llm_model": MODEL.replace(")", ", think=high)")}, off, "Summarise this.", answer=512)
    assert by_name.answer_tokens == thinking.answer_tokens
