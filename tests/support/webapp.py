"""Starting the real web app (`python main.py`) for browser tests, and driving its page with Playwright.

Also a pytest plugin (tests/conftest.py loads it): the `browser` fixture (Debian's Chromium, one per
session) and `context` (a fresh browser profile per test).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from tests.support.servers.provision import cache_root
from tests.support.servers.running import free_port

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "web"
CHROMIUM = os.environ.get("LOCALSCHOLAR_CHROMIUM", "/usr/bin/chromium")
READY_LINE = "LocalScholar 本地学术助手: http"  # what main.py prints once the page answers
LLAMA = "llamacpp-gemma-270m"
OLLAMA = "ollama-gemma3:270m"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]


class App:
    """A running `python main.py` and where it keeps its data."""

    def __init__(self, url: str, data: Path, proc: subprocess.Popen, port: int, log: Path) -> None:
        self.log = log
        self.port = port
        self.url = url
        self.data = data
        self.proc = proc


def write_config(folder: Path, settings: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config_private.py"
    path.write_text("".join(f"{key} = {value!r}\n" for key, value in settings.items()), encoding="utf-8")
    return path


@contextmanager
def running_app(folder: Path, settings: dict, port: int | None = None, timeout: float = 120) -> Iterator[App]:
    """`python main.py` with these settings (DATA_DIR defaults to folder/data); stopped afterwards.

    A browser keeps its id per address, so a restart that should find the same user passes the same port.
    """
    settings = {"DATA_DIR": str(folder / "data"), **settings}
    config = write_config(folder, settings)
    port = port or free_port()
    log = (folder / f"main-{port}.log").open("w", encoding="utf-8")
    env = {**os.environ, "LOCALSCHOLAR_CONFIG": str(config), "GRADIO_ANALYTICS_ENABLED": "False"}
    proc = subprocess.Popen(
        [sys.executable, "main.py", "--port", str(port)], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"main.py exited with {proc.returncode}:\n{Path(log.name).read_text()}")
            if READY_LINE in Path(log.name).read_text(encoding="utf-8"):
                break
            if time.monotonic() > deadline:
                raise RuntimeError(f"main.py did not answer in {timeout} s:\n{Path(log.name).read_text()}")
            time.sleep(0.3)
        yield App(url, Path(settings["DATA_DIR"]), proc, port, Path(log.name))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


def open_page(context, url: str):
    """A new tab on the app, once the page has loaded its conversations and model list."""
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("#chatbot")
    page.wait_for_function("() => document.querySelector('#model-select input') !== null")
    page.wait_for_timeout(1500)  # the page's load event fills the model list and reopens the conversation
    return page


def set_setting(page, elem_id: str, value: float) -> None:
    """Open the settings panel and set one slider (temperature, max-length) through its number box.

    Checks that the slider took the value: an answer with no length limit from the tiny test model can
    run for minutes.
    """
    if not page.locator(f"#{elem_id}").is_visible():
        page.get_by_text("参数与系统提示").click()
    box = page.locator(f"#{elem_id} input[type=number]")
    for _ in range(3):
        box.fill(str(value))
        box.press("Enter")
        box.blur()
        page.wait_for_timeout(200)
        if float(page.locator(f"#{elem_id} input[type=range]").input_value()) == float(value):
            return
    raise AssertionError(f"the {elem_id} slider did not take {value}")


def set_max_length(page, tokens: int) -> None:
    """The longest answer: the tiny test model can ramble for a long time."""
    set_setting(page, "max-length", tokens)


def pick_model(page, identifier: str) -> None:
    page.click("#model-select input")
    page.get_by_role("option", name=re.compile("^" + re.escape(identifier) + r"\s")).first.click()


def answers(page) -> list[str]:
    return page.locator("#chatbot .bot-row").all_inner_texts()


def last_answer(page) -> str:
    found = answers(page)
    return found[-1] if found else ""


def wait_for_status(page, pattern: str, timeout: float = 120) -> str:
    """Wait until the status line matches `pattern` (a regex); returns its text."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = page.inner_text("#status")
        if re.search(pattern, text):
            return text
        page.wait_for_timeout(100)
    raise AssertionError(f"status never matched {pattern!r}; last: {text!r}; answer: {last_answer(page)!r}")


def send(page, text: str) -> None:
    page.fill("#user-input textarea", text)
    page.press("#user-input textarea", "Enter")


def shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    yield context
    context.close()


def app_settings(llama_server, ollama_server, **more) -> dict:
    """main.py's settings for browser tests: the session's llama-server and Ollama, and the test model cache."""
    return {
        "OLLAMA_API_BASE": ollama_server.base_url,
        "LOCAL_SERVER_URLS": {"llamacpp": f"{llama_server.base_url}/v1"},
        "AVAIL_LLM_MODELS": [LLAMA, f"{LLAMA}&{OLLAMA}"],
        "LOCAL_MODEL_CACHE": str(cache_root() / "localscholar-cache"),
        **more,
    }
