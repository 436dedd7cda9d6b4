"""Embeddings with nothing started: the setting, a model that does not embed, a server that is not there."""

from __future__ import annotations

import pytest

from request_llms.embeddings import embed
from request_llms.errors import AuthFailed, BackendUnreachable, ConfigError, Stopped, WrongKindOfModel
from request_llms.model_spec import parse_model
from request_llms.request import CancelToken
from request_llms.runtime import runtime_of
from tests.support.helpers import make_config
from tests.support.servers.running import free_port


def test_no_embedding_model_set_says_which_setting_to_write(tmp_path):
    with pytest.raises(ConfigError) as caught:
        embed(None, ["hello"], config=make_config(tmp_path, 'EMBED_MODEL = ""\n'))
    assert "EMBED_MODEL" in caught.value.en and "EMBED_MODEL" in caught.value.zh


def test_a_bad_embedding_identifier_stops_the_start_with_the_key(tmp_path):
    with pytest.raises(ConfigError) as caught:
        make_config(tmp_path, 'EMBED_MODEL = "ollama-"\n')
    assert "EMBED_MODEL" in caught.value.en


def test_a_chat_model_asked_for_embeddings_says_so_in_one_line_and_starts_nothing(tmp_path):
    config = make_config(tmp_path)
    with pytest.raises(WrongKindOfModel) as caught:
        embed("builtin-gemma3-270m", ["hello"], config=config)
    assert "does not make embeddings" in caught.value.en and "不能生成向量" in caught.value.zh
    assert "EMBED_MODEL" in caught.value.en and "\n" not in caught.value.en
    spec = parse_model("builtin-gemma3-270m")
    assert runtime_of(config).backend_for(spec).workers == {}  # no worker was started to find that out


def test_a_server_that_is_not_running_says_how_to_start_it(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    config = make_config(tmp_path, f'LOCAL_SERVER_URLS = {{"llamacpp": "{url}"}}\nMAX_RETRY = 0\n')
    with pytest.raises(BackendUnreachable) as caught:
        embed("llamacpp-m", ["hello"], config=config)
    assert url in caught.value.en and "llama-server" in caught.value.en


def test_an_openai_embedding_model_without_its_key_says_which_key_to_set(tmp_path):
    with pytest.raises(AuthFailed) as caught:
        embed("text-embedding-3-small", ["hello"], config=make_config(tmp_path, 'API_KEY = ""\n'))
    assert "API_KEY" in caught.value.en and "API_KEY" in caught.value.zh


def test_a_stopped_embedding_request_says_so_and_sends_nothing(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(Stopped) as caught:
        embed(
            "llamacpp-m", ["hello"], config=make_config(tmp_path, f'LOCAL_SERVER_URLS = {{"llamacpp": "{url}"}}\n'), cancel=cancel
        )
    assert "cancelled" in caught.value.en and "已停止" in caught.value.zh
