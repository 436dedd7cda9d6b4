"""The page with a model served by a pool: under the dropdown each server with its state and load, in the
language of the switch, and after an answer the server that gave it (Chromium, `python main.py`)."""

from __future__ import annotations

from tests.support.servers.running import free_port
from tests.support.webapp import (
    LLAMA,
    open_page,
    running_app,
    send,
    set_max_length,
    shot,
    wait_for_status,
)


def test_the_page_shows_each_server_of_the_pool_and_which_one_answered(tmp_path, context, llama_server):
    up, closed = f"{llama_server.base_url}/v1", f"http://127.0.0.1:{free_port()}/v1"
    settings = {"LOCAL_SERVER_URLS": {"llamacpp": [up, closed]}, "AVAIL_LLM_MODELS": [LLAMA], "LLM_MODEL": LLAMA}
    with running_app(tmp_path, settings) as app:
        page = open_page(context, app.url)
        option = page.locator("#model-select input").input_value()
        assert LLAMA in option and "1/2 个服务" in option, option
        note = page.locator("#model-note")
        note.filter(has_text="服务池：2 个服务，1 个可用").wait_for(timeout=30_000)
        assert f"{up} 可用" in note.inner_text() and f"{closed} 无法连接" in note.inner_text(), note.inner_text()
        page.locator("#lang-select").get_by_text("English").click()
        note.filter(has_text="pool of 2 servers, 1 ready").wait_for(timeout=30_000)
        assert f"{closed} down" in note.inner_text(), note.inner_text()
        set_max_length(page, 24)
        send(page, "Name a colour.")
        status = wait_for_status(page, r"tok/s|first token")
        assert f"server {up}" in status, status
        shot(page, "pool")
