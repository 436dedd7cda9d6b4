"""Who may choose what: a page user picks among the configured models and their sampling, never where a request
goes or what a worker loads; an uploaded zip cannot grow memory or disk past its limit, whatever it claims."""

from __future__ import annotations

import socket
import zipfile

import pytest

from crazy_functions.crazy_utils import request_gpt_model_in_new_thread_with_ui_alive
from crazy_functions.runtime import files
from crazy_functions.runtime.files import PluginInputError, unpack_zip
from crazy_functions.runtime.session import PluginChatbot
from request_llms.compat import predict
from request_llms.errors import ModelNotAllowed
from request_llms.registry import check_allowed
from tests.support.documents import lying_zip
from tests.support.helpers import make_config

CONFIGURED = (
    'AVAIL_LLM_MODELS = ["llamacpp-gemma3-270m", "openai-compat-lab(base_url=http://10.0.0.5:8000/v1)", '
    '"ollama-qwen2.5:7b(max_token=8192)", "local-mine(lora=/srv/adapters/a, quant=INT4)"]\n'
    'LOCAL_MODEL_PATHS = {"mine": "/srv/models/mine"}\n'
)


@pytest.fixture
def config(tmp_path):
    return make_config(tmp_path, CONFIGURED)


@pytest.mark.parametrize(
    "typed",
    [
        "llamacpp-gemma3-270m(base_url=http://127.0.0.1:11434/v1)",
        "openai-compat-lab(base_url=http://127.0.0.1:18999/v1)",
        "ollama-qwen2.5:7b(max_token=1000000)",
        "ollama-qwen2.5:7b(keep_alive=-1)",
        "local-mine(lora=/etc)",
        "local-mine(lora=/srv/adapters/a, quant=INT4, device=cuda:7)",
        "ollama-found:1b(num_ctx=999999)",
    ],
)
def test_a_page_user_cannot_choose_where_a_request_goes_or_what_is_loaded(config, typed):
    with pytest.raises(ModelNotAllowed) as refused:
        check_allowed(typed, config, discovered={"ollama-found:1b"})
    assert "config_private.py" in refused.value.en and "config_private.py" in refused.value.zh
    assert "只能在 config_private.py 中设置" in refused.value.zh


@pytest.mark.parametrize(
    "typed",
    [
        "llamacpp-gemma3-270m",
        "llamacpp-gemma3-270m(temperature=0.2, top_p=0.9)",
        "openai-compat-lab(base_url=http://10.0.0.5:8000/v1)",  # exactly as configured
        "openai-compat-lab(base_url=http://10.0.0.5:8000/v1, temperature=0)",
        "ollama-qwen2.5:7b(max_token=8192)",
        "local-mine(quant=INT4, lora=/srv/adapters/a)",
        "ollama-found:1b(temperature=1)",
        "llamacpp-gemma3-270m&ollama-found:1b",
    ],
)
def test_configured_models_and_their_sampling_are_allowed(config, typed):
    assert check_allowed(typed, config, discovered={"ollama-found:1b"})


@pytest.mark.parametrize("typed", [None, "", "   ", "gpt-4o"])
def test_no_model_or_one_not_offered_is_refused_with_a_clear_line(config, typed):
    with pytest.raises(ModelNotAllowed) as refused:
        check_allowed(typed, config)
    assert refused.value.zh and refused.value.en and "Traceback" not in refused.value.en


def test_a_member_that_lies_about_its_size_is_refused_and_leaves_nothing(tmp_path):
    archive = tmp_path / "bomb.zip"
    lying_zip(archive, real_size=64 * 1024 * 1024, claimed=100)
    target = tmp_path / "out"
    with pytest.raises(PluginInputError) as refused:
        unpack_zip(archive, target)
    assert "bomb.zip" in refused.value.en and "bomb.zip" in refused.value.zh
    assert not [p for p in target.rglob("*") if p.is_file()]


def test_a_zip_over_the_limit_is_refused_before_anything_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_ZIP_BYTES", 1024 * 1024)
    archive = tmp_path / "project.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for i in range(4):
            bundle.writestr(f"part{i}.txt", b"x" * 400 * 1024)
    target = tmp_path / "out"
    with pytest.raises(PluginInputError, match="more than 1 MB"):
        unpack_zip(archive, target)
    assert not target.exists() or not any(target.iterdir())


def test_a_zip_within_the_limit_unpacks_whole(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "MAX_ZIP_BYTES", 1024 * 1024)
    archive = tmp_path / "project.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("src/a.py", "print('a')\n" * 1000)
        bundle.writestr("../escape.py", "no")
    unpacked = unpack_zip(archive, tmp_path / "out")
    assert [p.relative_to(tmp_path / "out").as_posix() for p in unpacked] == ["src/a.py"]
    assert unpacked[0].read_text() == "print('a')\n" * 1000


def test_gpt_academics_helpers_refuse_a_model_the_page_does_not_offer(config, tmp_path):
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.5)
    steered = {"llm_model": f"llamacpp-gemma3-270m(base_url=http://127.0.0.1:{listener.getsockname()[1]}/v1)"}
    chatbot = PluginChatbot(config=config, out_dir=tmp_path / "out", allowed=lambda text: check_allowed(text, config))
    try:
        with pytest.raises(ModelNotAllowed):
            for _ in request_gpt_model_in_new_thread_with_ui_alive("q", "q", steered, chatbot, [], ""):
                pass
        for _ in predict("q", steered, chatbot=chatbot):
            pass
        assert "config_private.py" in chatbot[-1][1]
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing ever connected
    finally:
        listener.close()
