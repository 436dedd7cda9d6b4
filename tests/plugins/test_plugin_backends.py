"""The document plugins on the other kinds of backend: vLLM (its max_model_len and /tokenize) and a native
model in a worker (its own tokenizer, counted in the worker), each cut to its real window."""

from __future__ import annotations

import pytest

from crazy_functions.runtime.parallel import DONE
from crazy_functions.runtime.session import PluginChatbot
from crazy_functions.word_summary import word_summary
from request_llms.model_spec import parse_model
from request_llms.runtime import runtime_of
from request_llms.tokens import counter_for
from tests.support.documents import make_docx
from tests.support.helpers import make_config
from tests.support.plugin_support import drive
from tests.support.servers.provision import cache_root

KWARGS = {"temperature": 0, "top_p": 1.0, "max_length": 48}


def _summarise(config, model: str, tmp_path, sections: int) -> PluginChatbot:
    chatbot = PluginChatbot(
        files=[make_docx(tmp_path / "report.docx", sections=sections)], out_dir=tmp_path / "out", config=config
    )
    drive(word_summary, "", {**KWARGS, "llm_model": model}, chatbot)
    return chatbot


def test_a_word_summary_on_vllm_fits_its_max_model_len(tmp_path, vllm_server):
    config = make_config(tmp_path, f'VLLM_API_BASE = "{vllm_server.base_url}/v1"\n')
    chatbot = _summarise(config, "vllm-gemma-270m", tmp_path, sections=8)
    assert len(chatbot.requests) >= 3 and all(p.state == DONE for p in chatbot.requests), chatbot[-1][1]
    for piece in chatbot.requests:
        assert piece.prompt_tokens + piece.max_tokens <= 2048  # vLLM's max_model_len in the tests
    assert chatbot.outputs[0].name == "report-summary.md"


@pytest.mark.servers
def test_a_word_summary_on_a_native_model_is_cut_by_its_own_tokenizer(tmp_path):
    config = make_config(tmp_path, LOCAL_MODEL_CACHE=str(cache_root() / "localscholar-cache"))
    model = "builtin-gemma3-270m(max_token=1024)"  # a small window, so the document needs several pieces
    try:
        assert counter_for(parse_model(model), config).source == "native tokenizer"
        chatbot = _summarise(config, model, tmp_path, sections=4)
    finally:
        runtime_of(config).backend_for(parse_model(model)).shutdown()
    assert len(chatbot.requests) >= 3 and all(p.state == DONE for p in chatbot.requests), chatbot[-1][1]
    for piece in chatbot.requests:
        assert piece.prompt_tokens + piece.max_tokens <= 1024
    assert "report-summary.md" in chatbot[-1][1]
