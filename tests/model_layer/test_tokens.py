"""Token counts come from the model's own tokenizer where the server offers one (llama.cpp, vLLM)."""

from __future__ import annotations

from crazy_functions.documents.split import split_text
from request_llms.messages import estimate_tokens
from request_llms.model_spec import parse_model
from request_llms.tokens import counter_for
from tests.support.helpers import make_config

TEXT = "Large language models can summarise papers. 大模型可以总结论文。" * 20


def test_llama_cpp_and_vllm_count_with_the_same_gemma_tokenizer(tmp_path, llama_server, vllm_server):
    config = make_config(
        tmp_path,
        f'LOCAL_SERVER_URLS = {{"llamacpp": "{llama_server.base_url}/v1"}}\nVLLM_API_BASE = "{vllm_server.base_url}/v1"\n',
    )
    llama = counter_for(parse_model("llamacpp-gemma-270m"), config)
    vllm = counter_for(parse_model("vllm-gemma-270m"), config)
    assert llama.exact and vllm.exact
    assert abs(llama(TEXT) - vllm(TEXT)) <= 2  # vLLM adds the BOS token
    assert 0 < llama(TEXT) < estimate_tokens(TEXT)  # the estimate errs high, the tokenizer is exact
    pieces = split_text(TEXT, 50, llama)
    assert "".join(pieces) == TEXT and all(llama(p) <= 50 for p in pieces) and len(pieces) > 3


def test_servers_without_a_tokenizer_get_the_high_estimate(tmp_path, ollama_server):
    config = make_config(tmp_path, f'OLLAMA_API_BASE = "{ollama_server.base_url}"\n')
    counter = counter_for(parse_model("ollama-gemma3:270m"), config)
    assert not counter.exact and counter(TEXT) == estimate_tokens(TEXT)
    down = counter_for(parse_model("lmstudio-anything"), config)  # nothing listens there
    assert not down.exact
