"""A plugin on a real llama-server started with 2 slots (the `thinking_llama` fixture): the pieces it sends at once
are capped by the slots the server reports at /props, whatever PARALLEL_REQUESTS says; and a table-heavy PDF is
cut with a few calls to the server's /tokenize, not one per table cell."""

from __future__ import annotations

from crazy_functions.documents.pdf_text import read_pdf
from crazy_functions.documents.split import split_text
from crazy_functions.runtime.parallel import DONE, Piece, ask_in_parallel, workers_for
from crazy_functions.runtime.session import PluginChatbot
from request_llms.model_spec import parse_model
from request_llms.runtime import runtime_of
from request_llms.tokens import counter_for
from tests.support.documents import make_results_tables
from tests.support.helpers import make_config

MODEL = "llamacpp-gemma-270m"


def _config(tmp_path, server, parallel: int):
    tmp_path.mkdir(exist_ok=True)
    return make_config(
        tmp_path, f'LOCAL_SERVER_URLS = {{"llamacpp": "{server.base_url}/v1"}}\nPARALLEL_REQUESTS = {{"llamacpp": {parallel}}}\n'
    )


def test_pieces_at_once_are_capped_by_the_servers_slots(thinking_llama, tmp_path):
    config = _config(tmp_path, thinking_llama, parallel=4)
    spec = parse_model(MODEL)
    assert runtime_of(config).capacity(spec) == 4  # nothing asked yet: reading the capacity sends no request
    assert workers_for(MODEL, config) == 2 and runtime_of(config).capacity(spec) == 2  # a run learns the slots first
    chatbot = PluginChatbot(lang="zh", out_dir=tmp_path / "out", config=config)
    pieces = [Piece(f"Say the number {i}.", max_tokens=8) for i in range(4)]
    shown = [chatbot[-1][1] for _ in ask_in_parallel(chatbot, [], pieces, {"llm_model": MODEL, "temperature": 0})]
    assert all(piece.state == DONE for piece in pieces), [piece.error for piece in pieces]
    assert shown and all("同时 2 段" in line for line in shown), shown[-1]
    fewer = _config(tmp_path / "fewer", thinking_llama, parallel=1)
    assert workers_for(MODEL, fewer) == 1, "the slots raised PARALLEL_REQUESTS instead of capping it"


def test_a_llama_server_behind_an_openai_compat_url_is_capped_once_its_props_were_read(thinking_llama, tmp_path):
    config = make_config(
        tmp_path, f'LOCAL_SERVER_URLS = {{"openai-compat": "{thinking_llama.base_url}/v1"}}\nPARALLEL_REQUESTS = {{"local": 4}}\n'
    )
    spec = parse_model("openai-compat-gemma-270m")
    assert runtime_of(config).capacity(spec) == 4, "a server not known to be llama.cpp was asked for /props"
    assert runtime_of(config).backend_for(spec).context_budget(spec) == 1024  # read from /props, as a plugin's sizer does
    assert runtime_of(config).capacity(spec) == 2


def test_a_table_heavy_pdf_is_cut_with_few_tokenize_calls(thinking_llama, tmp_path):
    counter = counter_for(parse_model(MODEL), _config(tmp_path, thinking_llama, parallel=2))
    assert counter.exact, "the server's /tokenize was not used"
    calls = []

    def count(text: str) -> int:
        calls.append(len(text))
        return counter(text)

    text = read_pdf(make_results_tables(tmp_path / "tables.pdf"))
    pieces = split_text(text, 700, count)
    assert "".join(pieces) == text and all(counter(piece) <= 700 for piece in pieces)
    assert len(calls) <= 5 * len(pieces) + 5, f"{len(calls)} /tokenize calls for {len(pieces)} pieces"
