"""A user writes model identifiers by hand: every form parses into one spec, and every mistake names its part."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from request_llms.errors import IdentifierError
from request_llms.model_spec import CLOUD, NATIVE, OLLAMA, OPENAI_COMPAT, parse_model, parse_models, split_models


@pytest.mark.parametrize(
    ("text", "kind", "provider", "model"),
    [
        ("ollama-qwen2.5:7b", OLLAMA, "ollama", "qwen2.5:7b"),
        ("ollama-library/llama3", OLLAMA, "ollama", "library/llama3"),
        ("vllm-Qwen/Qwen2.5-7B-Instruct", OPENAI_COMPAT, "vllm", "Qwen/Qwen2.5-7B-Instruct"),
        ("vllm-/data/models/qwen", OPENAI_COMPAT, "vllm", "/data/models/qwen"),
        ("lmstudio-qwen2.5-7b-instruct", OPENAI_COMPAT, "lmstudio", "qwen2.5-7b-instruct"),
        ("llamacpp-gemma", OPENAI_COMPAT, "llamacpp", "gemma"),
        ("jan-llama3.2-3b-instruct", OPENAI_COMPAT, "jan", "llama3.2-3b-instruct"),
        ("localai-phi-2", OPENAI_COMPAT, "localai", "phi-2"),
        ("tgwebui-model", OPENAI_COMPAT, "tgwebui", "model"),
        ("sglang-Qwen/Qwen2.5-7B", OPENAI_COMPAT, "sglang", "Qwen/Qwen2.5-7B"),
        ("openai-compat-my-model", OPENAI_COMPAT, "openai-compat", "my-model"),
        ("gpt-4o-mini", CLOUD, "openai", "gpt-4o-mini"),
        ("o3-mini", CLOUD, "openai", "o3-mini"),
        ("deepseek-chat", CLOUD, "deepseek", "deepseek-chat"),
        ("qwen-max", CLOUD, "dashscope", "qwen-max"),
        ("dashscope-qwen3-235b-a22b", CLOUD, "dashscope", "qwen3-235b-a22b"),
        ("glm-4-flash", CLOUD, "zhipu", "glm-4-flash"),
        ("moonshot-v1-8k", CLOUD, "moonshot", "moonshot-v1-8k"),
        ("chatglm4", NATIVE, "chatglm4", "chatglm4"),
        ("chatglm3", NATIVE, "chatglm3", "chatglm3"),
        ("chatglm", NATIVE, "chatglm", "chatglm"),
        ("qwen-local", NATIVE, "qwen-local", "qwen-local"),
        ("local-mymodel", NATIVE, "local", "mymodel"),
        ("builtin-gemma3-270m", NATIVE, "builtin-gemma3-270m", "builtin-gemma3-270m"),
    ],
)
def test_every_documented_form_parses(text, kind, provider, model):
    spec = parse_model(text)
    assert (spec.kind, spec.provider, spec.model, spec.base) == (kind, provider, model, text)


def test_bracket_parameters_reach_the_spec():
    spec = parse_model("ollama-qwen2.5:7b(max_token=8192, temperature=0.3, top_p=0.9, num_ctx=4096, keep_alive=10m)")
    assert (spec.max_token, spec.temperature, spec.top_p, spec.num_ctx, spec.keep_alive) == (8192, 0.3, 0.9, 4096, "10m")
    native = parse_model("chatglm4(quant=int4, device=cuda:1)")
    assert (native.quant, native.device) == ("INT4", "cuda:1")
    generic = parse_model('openai-compat-m(base_url="http://10.0.0.2:9000/v1/")')
    assert generic.base_url == "http://10.0.0.2:9000/v1"


@pytest.mark.parametrize(
    ("text", "named_part"),
    [
        ("ollama-qwen(max_token=abc)", "max_token=abc"),
        ("ollama-qwen(max_tokens=100)", "max_tokens=100"),
        ("vllm-x(num_ctx=100)", "num_ctx=100"),
        ("gpt-4o(temperature=3)", "temperature=3"),
        ("chatglm4(quant=INT3)", "quant=INT3"),
        ("chatglm4(device=gpu)", "device=gpu"),
        ("ollama-", "ollama-"),
        ("ollama-qwen(max_token=1", "ollama-qwen(max_token=1"),
        ("ollama-qwen(max_token)", "max_token"),
        ("ollama-qwen(max_token=1, max_token=2)", "max_token=2"),
        ("vllm-x(base_url=ftp://a)", "base_url=ftp://a"),
    ],
)
def test_a_malformed_identifier_names_the_bad_part(text, named_part):
    with pytest.raises(IdentifierError) as caught:
        parse_model(text)
    assert f"“{named_part}”" in caught.value.en
    assert f"“{named_part}”" in caught.value.zh
    assert caught.value.exit_code == 2


def test_a_typo_in_a_parameter_suggests_the_right_one():
    with pytest.raises(IdentifierError, match="did you mean 'max_token'"):
        parse_model("ollama-qwen(max_tokens=100)")


def test_an_unknown_name_lists_the_known_forms():
    with pytest.raises(IdentifierError, match="ollama-NAME"):
        parse_model("llama3")


def test_several_models_split_outside_brackets_only():
    specs = parse_models('gpt-4o-mini&openai-compat-m(base_url="http://h:1/v1?a=1&b=2")&ollama-qwen')
    assert [s.base for s in specs] == ["gpt-4o-mini", "openai-compat-m", "ollama-qwen"]
    assert specs[1].base_url == "http://h:1/v1?a=1&b=2"
    with pytest.raises(IdentifierError, match="&"):
        parse_model("gpt-4o-mini&ollama-qwen")


names = st.from_regex(r"[a-z0-9][a-z0-9._\-]{0,20}", fullmatch=True)
params = st.fixed_dictionaries(
    {},
    optional={
        "max_token": st.integers(1, 10**6),
        "temperature": st.floats(0, 2, allow_nan=False).map(lambda f: round(f, 3)),
        "top_p": st.floats(0, 1, allow_nan=False).map(lambda f: round(f, 3)),
    },
)


@given(kind=st.sampled_from(["ollama-", "vllm-", "lmstudio-", "llamacpp-"]), name=names, values=params)
def test_the_canonical_text_parses_back_to_the_same_spec(kind, name, values):
    spec = parse_model(kind + name).with_params(**values)
    assert parse_model(spec.text) == spec


@given(st.text(max_size=60))
def test_any_text_either_parses_or_raises_the_identifier_error(text):
    try:
        for spec in parse_models(text):
            assert spec.base
    except IdentifierError as exc:
        assert exc.en and exc.zh


@given(st.lists(names, min_size=1, max_size=4))
def test_ampersand_joins_split_back_into_their_parts(parts):
    joined = "&".join(f"ollama-{p}(max_token=10)" for p in parts)
    assert split_models(joined) == [f"ollama-{p}(max_token=10)" for p in parts]
