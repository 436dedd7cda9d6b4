"""The holes a hostile page user found, reproduced from outside (HTTP, as the page's own script calls it) and
closed: nobody but the owner steers the server or reads another user's files.

Each test starts the real `python main.py`; no LLM server is needed (the requests must never leave).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest
from gradio_client import Client, handle_file

from tests.support.canary import Canary
from tests.support.documents import lying_zip
from tests.support.servers.running import free_port
from tests.support.webapp import running_app

pytestmark = pytest.mark.servers  # starts main.py
LOCAL_KEY = "sk-local-secret-key-9876"


PAIR = "llamacpp-small(max_token=512)&llamacpp-tiny(max_token=256)"  # an A&B pick whose lanes both refuse a long prompt


def _settings(**more) -> dict:
    return {
        "AVAIL_LLM_MODELS": ["llamacpp-gemma3-270m", "llamacpp-small(max_token=512)", "llamacpp-tiny(max_token=256)", PAIR],
        "LOCAL_SERVER_URLS": {"llamacpp": f"http://127.0.0.1:{free_port()}/v1"},  # nothing listens there
        "LOCAL_API_KEY": LOCAL_KEY,
        **more,
    }


def test_a_page_user_cannot_send_a_request_elsewhere_or_with_our_key(tmp_path):
    canary = Canary()
    steered = f"llamacpp-gemma3-270m(base_url=http://127.0.0.1:{canary.port}/v1)"
    try:
        with running_app(tmp_path, _settings()) as app:
            page = Client(app.url, download_files=False, verbose=False)
            note = page.predict([steered, "llamacpp-gemma3-270m"], "hi", 0.0, 1.0, 8, "", "en", api_name="/compare")[0]
            assert "base_url can only be set in config_private.py" in note
            models = f"{steered}&llamacpp-gemma3-270m"
            ran = page.predict("multi_model", models, "", "", [], "hi", "llamacpp-gemma3-270m", 0.0, 1.0, 8, "", "zh",
                               api_name="/plugin")  # fmt: skip
            assert "base_url 只能在 config_private.py 中设置" in str(ran[0])
            zh = page.predict([steered, "llamacpp-gemma3-270m"], "hi", 0.0, 1.0, 8, "", "zh", api_name="/compare")[0]
            assert "只能在 config_private.py 中设置" in zh
        assert canary.received == [], "a request reached the address a page user typed"
        assert LOCAL_KEY not in app.log.read_text(encoding="utf-8")
    finally:
        canary.close()


def test_refused_input_is_not_stored_and_the_status_says_so(tmp_path):
    with running_app(tmp_path, _settings()) as app:
        page = Client(app.url, download_files=False, verbose=False)
        page.predict("en", api_name="/on_load")
        messages, status, *_ = page.predict("hello", None, 0.0, 1.0, 8, "", "en", api_name="/send")
        assert "No model is chosen" in status and messages[-1]["content"][0]["text"].startswith("⚠")
        huge = "word " * 400_000  # 2 MB, far over the 512-token window
        messages, status, *_ = page.predict(huge, "llamacpp-small(max_token=512)", 0.0, 1.0, 8, "", "en", api_name="/send")
        assert "context budget is 512 tokens" in status, status
        messages, status, *_ = page.predict(huge, PAIR, 0.0, 1.0, 8, "", "en", api_name="/send")
        assert "context budget is" in status and messages[-1]["content"][0]["text"].count("⚠") == 2, status
        ran = page.predict(
            "multi_model", PAIR, "", "", [], huge, "llamacpp-gemma3-270m", 0.0, 1.0, 8, "", "en", api_name="/plugin"
        )
        assert "None of the 2 models answered" in ran[1] and "finished" not in ran[1], ran[1]
        ran = page.predict("word_summary", "", "", "", [], "../../config_private.py", "llamacpp-gemma3-270m", 0.0, 1.0, 8,
                           "", "en", api_name="/plugin")  # fmt: skip
        assert ran[1].startswith("⚠") and "finished" not in ran[1]
        page.predict("en", api_name="/on_load")
        history = page.predict("en", api_name="/on_load")[1]
        titles = [choice[0] for choice in history["choices"]]
        assert not any("word word" in title for title in titles), "the refused prompt was kept"
    log = app.log.read_text(encoding="utf-8")
    assert "IntegrityError" not in log and "Traceback" not in log


def _signed_in(url: str, name: str, password: str) -> Client:
    return Client(url, auth=(name, password), download_files=False, verbose=False)


def _own_files(client: Client, tmp_path: Path) -> dict[str, str]:
    """An upload, a plugin output and a conversation export of this client's user: name -> URL."""
    client.predict("en", api_name="/on_load")
    notes = tmp_path / "notes.txt"
    notes.write_text("private notes", encoding="utf-8")
    assert "notes.txt" in client.predict([handle_file(str(notes))], "en", api_name="/upload")[0]
    ran = client.predict("export_chat", "", "", "", [], "", "llamacpp-gemma3-270m", 0.0, 1.0, 8, "", "en", api_name="/plugin")
    output = ran[4]["value"][0]
    export = client.predict(api_name="/export")["value"]
    return {"output": output["url"], "export": export["url"], "conversation": ran[3]["choices"][0][1]}


def _forged_upload(url: str, client: Client, server_path: str) -> str:
    """An upload event sent by hand that names a file on the server instead of sending one; the page's note."""
    body = {"data": [[{"path": server_path, "meta": {"_type": "gradio.FileData"}}], "en"]}
    event = httpx.post(f"{url}gradio_api/call/upload", json=body, cookies=client.cookies).json()["event_id"]
    stream = httpx.get(f"{url}gradio_api/call/upload/{event}", cookies=client.cookies, timeout=30).text
    return stream


def test_files_are_served_only_to_their_owner_and_go_with_the_conversation(tmp_path):
    temp_before = {p.name for p in Path(tempfile.gettempdir()).glob("localscholar-*")}
    settings = _settings(AUTHENTICATION=[["alice", "a-pw"], ["bob", "b-pw"]])
    with running_app(tmp_path, settings) as app:
        alice, bob = _signed_in(app.url, "alice", "a-pw"), _signed_in(app.url, "bob", "b-pw")
        links = _own_files(alice, tmp_path)
        for what in ("output", "export"):
            assert httpx.get(links[what], cookies=alice.cookies).status_code == 200, what
            assert httpx.get(links[what], cookies=bob.cookies).status_code == 404, what
            assert httpx.get(links[what]).status_code in (401, 403, 404), what
            second_spelling = links[what].replace("gradio_api/file=", "gradio_api/file/")  # Gradio's other route
            assert httpx.get(second_spelling, cookies=bob.cookies).status_code == 404, what
            assert httpx.get(second_spelling).status_code in (401, 403, 404), what
        assert httpx.get(f"{app.url}gradio_api/proxy=https://example.org/x", cookies=alice.cookies).status_code == 404
        snapshot = httpx.get(f"{app.url}gradio_api/deep_link", params={"session_hash": alice.session_hash}, cookies=bob.cookies)
        assert snapshot.status_code == 404 and not (app.data / "files" / "deep_links").exists()
        offered = Path(links["output"].split("file=", 1)[1])
        said = _forged_upload(app.url, bob, str(offered))  # naming alice's file in an upload event of bob's
        assert "was not saved" in said and offered.is_file() and not list((app.data / "users").glob(f"*/uploads/{offered.name}"))
        upload = next((app.data / "users").glob("*/uploads/notes.txt"))
        for who in (alice, bob):
            assert httpx.get(f"{app.url}gradio_api/file={upload}", cookies=who.cookies).status_code in (403, 404)
        cached = [
            p for p in (app.data / "files").rglob("*") if p.is_file() and "u" not in p.relative_to(app.data / "files").parts[:1]
        ]
        assert not [p for p in cached if p.stat().st_size], f"upload copies left in the file cache: {cached}"
        config = httpx.get(app.url + "config", cookies=alice.cookies).text
        assert (app.data / "page.secret").read_text().strip() not in config
        with running_app(tmp_path / "second", _settings()) as second:  # another instance, no sign-in
            path = links["export"].split("file=", 1)[1]
            assert httpx.get(f"{second.url}gradio_api/file={path}").status_code in (403, 404)
        alice.predict(links["conversation"], api_name="/delete")
        for what in ("output", "export"):
            assert httpx.get(links[what], cookies=alice.cookies).status_code in (403, 404), f"{what} outlived its conversation"
        assert not list((app.data / "users").glob(f"*/outputs/{links['conversation']}"))
        assert not list((app.data / "files").rglob(links["conversation"]))
    assert {p.name for p in Path(tempfile.gettempdir()).glob("localscholar-*")} <= temp_before


def test_without_sign_in_each_browser_is_its_own_owner(tmp_path):
    with running_app(tmp_path, _settings()) as app:
        browsers = []
        for _ in range(2):
            cookies = dict(httpx.get(app.url).cookies)  # the page hands each browser its sealed id
            assert list(cookies) == [f"localscholar-owner-{app.port}"]
            browsers.append((Client(app.url, download_files=False, verbose=False, httpx_kwargs={"cookies": cookies}), cookies))
        (mine, my_cookies), (_, other_cookies) = browsers
        links = _own_files(mine, tmp_path)
        assert httpx.get(links["export"], cookies=my_cookies).status_code == 200
        assert httpx.get(links["export"], cookies=other_cookies).status_code == 404
        assert httpx.get(links["export"]).status_code == 404
        forged = {name: "0" * 32 + value[32:] for name, value in my_cookies.items()}
        assert httpx.get(links["export"], cookies=forged).status_code == 404


def test_a_zip_that_lies_about_its_size_is_refused_from_the_page(tmp_path):
    bomb = tmp_path / "project.zip"
    lying_zip(bomb, real_size=256 * 1024 * 1024, claimed=100)
    with running_app(tmp_path, _settings()) as app:
        page = Client(app.url, download_files=False, verbose=False)
        page.predict("en", api_name="/on_load")
        assert "project.zip" in page.predict([handle_file(str(bomb))], "en", api_name="/upload")[0]
        ran = page.predict("source_code", "", "", "", [], "", "llamacpp-gemma3-270m", 0.0, 1.0, 8, "", "en",
                           api_name="/plugin")  # fmt: skip
        assert ran[1].startswith("⚠") and "project.zip" in ran[1] and "zip" in ran[1]
        assert not [p for p in (app.data / "users").rglob("big.txt")], "the member was left on disk"
