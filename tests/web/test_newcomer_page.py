"""The page a newcomer meets, in real Chromium against `python main.py` with only the built-in model running:
every word follows the language switch, the wait shows in the answer's bubble, Stop is bright only while
something runs, and the function buttons never break a word.

Screenshots land in artifacts/web/.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.support.servers.provision import cache_root
from tests.support.servers.running import free_port
from tests.support.webapp import last_answer, open_page, running_app, send, set_max_length, set_setting, shot
from webui.i18n import STRINGS

pytestmark = pytest.mark.servers

BUILTIN = "builtin-gemma3-270m"
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]")
# English words the Chinese page must not show: the page's own labels, and the words of the model list
ENGLISH_ONLY = sorted(
    {text.en for text in STRINGS.values() if "{" not in text.en and text.en not in text.zh}
    | {"native", "cloud", "unreachable", "not running", "no API key"}
)
ENGLISH_WORDS = re.compile("|".join(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])" for word in ENGLISH_ONLY))
SHOWN_TEXT = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const lines = [];
  let node;
  while ((node = walker.nextNode())) {
    const text = node.textContent.trim();
    const box = node.parentElement;
    if (!text || !box.checkVisibility({visibilityProperty: true})) continue;
    if (box.closest("#lang-select") && (text === "中文" || text === "English")) continue;  // each in its own language
    lines.push(text);
  }
  for (const box of document.querySelectorAll("input:not([type=radio]):not([type=checkbox]), textarea")) {
    if (box.checkVisibility({visibilityProperty: true})) lines.push(box.value, box.placeholder);
  }
  return lines.filter((line) => line && line.trim());
}"""


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("newcomer")
    settings = {
        "OLLAMA_API_BASE": f"http://127.0.0.1:{free_port()}",  # nothing listens: the Ollama model is marked
        "AVAIL_LLM_MODELS": [BUILTIN, "ollama-qwen2.5:7b", "gpt-4o-mini"],
        "LOCAL_MODEL_CACHE": str(cache_root() / "localscholar-cache"),
    }
    with running_app(folder, settings) as running:
        yield running


def switch(page, lang: str) -> None:
    page.get_by_label("English" if lang == "en" else "中文").check()


def options(page, elem_id: str) -> list[str]:
    page.click(f"#{elem_id} input")
    page.wait_for_selector("[role=option]")
    found = page.locator("[role=option]").all_inner_texts()
    page.keyboard.press("Escape")
    page.locator("#title").click()  # the list closes
    return [text.replace("✓", "").strip() for text in found]


def everything_shown(page) -> list[str]:
    """The text of the chat tab and the compare tab (with what the boxes hold and their placeholders), and the
    labels of every dropdown's options."""
    shown = page.evaluate(SHOWN_TEXT) + options(page, "model-select") + options(page, "plugin-select")
    page.locator("#lang-select").scroll_into_view_if_needed()
    page.get_by_role("tab").nth(1).click()
    page.wait_for_selector("#compare-models", state="visible")
    shown += page.evaluate(SHOWN_TEXT) + options(page, "compare-models")
    page.get_by_role("tab").nth(0).click()
    page.wait_for_selector("#chatbot", state="visible")
    return shown


def foreign(lang: str, lines: list[str]) -> list[str]:
    """The lines in the other language: any Chinese on the English page, the page's English words on the Chinese."""
    if lang == "en":
        return [line for line in lines if CJK.search(line)]
    return [line for line in lines if ENGLISH_WORDS.search(line)]


def assert_all_in(page, lang: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        wrong = foreign(lang, everything_shown(page))
        if not wrong:
            return
        if time.monotonic() > deadline:
            shot(page, f"language-{lang}")
            raise AssertionError(f"the {lang} page still shows {wrong}")
        page.wait_for_timeout(500)


def test_every_word_follows_the_language_switch_and_a_reload(app, context):
    page = open_page(context, app.url)
    assert_all_in(page, "zh")
    for lang in ("en", "zh", "en"):
        switch(page, lang)
        assert_all_in(page, lang)
    picked = page.locator("#model-select input").input_value()
    assert picked.startswith(BUILTIN) and "[native]" in picked
    assert page.title() == STRINGS["title"].en
    page.reload()
    page.wait_for_selector("#chatbot")
    assert_all_in(page, "en")
    shot(page, "language-en")
    switch(page, "zh")
    assert_all_in(page, "zh")
    page.reload()
    page.wait_for_selector("#chatbot")
    assert_all_in(page, "zh")
    assert page.locator("footer").count() == 0 or not page.locator("footer").first.is_visible()


LAST_BUBBLE = """() => {
  const rows = document.querySelectorAll("#chatbot .bot-row");
  const row = rows[rows.length - 1];
  const bar = row?.querySelector("progress");
  return (row?.innerText || "").trim() + (bar ? ` [bar ${bar.value}/${bar.max}]` : "");
}"""


def watch_bubbles(pages, until, timeout: float = 600) -> list[list[str]]:
    """Every text the last answer bubble of each page shows (with its progress bar's value, if it has one),
    until `until(page)` holds for all of them."""
    seen: list[list[str]] = [[] for _ in pages]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for page, texts in zip(pages, seen, strict=True):
            text = page.evaluate(LAST_BUBBLE)
            if text and (not texts or texts[-1] != text):
                texts.append(text)
        if all(until(page) for page in pages):
            return seen
        pages[0].wait_for_timeout(50)
    raise AssertionError(f"no answer in {timeout} s; bubbles: {seen}")


def idle(page) -> bool:
    return page.locator("#stop-btn").is_disabled()


def test_the_wait_shows_in_the_bubble_and_gives_way_to_the_answer(app, browser):
    first, second = browser.new_context(), browser.new_context()
    try:
        page_en, page_zh = open_page(first, app.url), open_page(second, app.url)
        for page in (page_en, page_zh):
            set_max_length(page, 24)
            set_setting(page, "temperature", 0)
        switch(page_en, "en")
        page_en.wait_for_function("() => document.querySelector('#submit-btn')?.innerText?.trim() === 'Send'")
        send(page_en, "Question: What is the capital of France?\nAnswer:")
        send(page_zh, "Question: What is the capital of Italy?\nAnswer:")
        page_en.wait_for_function("() => (document.querySelector('#chatbot .bot-row')?.innerText || '').includes('⏳')")
        shot(page_en, "waiting-bubble")
        seen_en, seen_zh = watch_bubbles([page_en, page_zh], lambda page: idle(page) and "⏳" not in last_answer(page))
        answer_en, answer_zh = last_answer(page_en), last_answer(page_zh)
    finally:
        first.close()
        second.close()
    waits_en, waits_zh = [t for t in seen_en if t.startswith("⏳")], [t for t in seen_zh if t.startswith("⏳")]
    assert any(re.match(rf"⏳ Loading {BUILTIN}: .*\d+%", t) for t in waits_en), seen_en
    assert any(re.search(r"\d+% \[bar \d+/100\]$", t) for t in waits_en), seen_en  # the bar under the loading line
    queued_en = any(re.match(r"⏳ .*\b1 request\(s\) ahead", t) for t in waits_en)
    queued_zh = any(re.match(r"⏳ .*前面还有 1 个请求", t) for t in waits_zh)
    assert queued_en or queued_zh, (seen_en, seen_zh)  # one waited for the other, and said so in its language
    assert not any(CJK.search(t) for t in waits_en) and not any(ENGLISH_WORDS.search(t) for t in waits_zh)
    for seen in (seen_en, seen_zh):
        answered = next(i for i, t in enumerate(seen) if not t.startswith("⏳"))
        assert all(not t.startswith("⏳") for t in seen[answered:]), seen  # replaced once the answer came
    assert "Paris" in answer_en and "⏳" not in answer_en and answer_zh.strip() and "⏳" not in answer_zh
    assert "[bar" not in seen_en[-1] + seen_zh[-1]


def stop_look(page) -> tuple[bool, bool]:
    """Whether the Stop button can be pressed, and whether it is drawn in the stop colour."""
    button = page.locator("#stop-btn")
    return button.is_enabled(), "stop" in (button.get_attribute("class") or "").split()


def test_stop_is_bright_only_while_an_answer_runs(app, context):
    page = open_page(context, app.url)
    set_setting(page, "temperature", 0)
    assert stop_look(page) == (False, False)
    set_max_length(page, 8)
    send(page, "Question: What is the capital of France?\nAnswer:")
    page.wait_for_function("() => !document.querySelector('#stop-btn').disabled", timeout=30000)
    assert stop_look(page) == (True, True)
    page.wait_for_function("() => document.querySelector('#stop-btn').disabled", timeout=300000)
    assert stop_look(page) == (False, False) and last_answer(page).strip()

    set_max_length(page, 0)
    send(page, "Write a very long story about a lighthouse keeper, with many chapters.")
    page.wait_for_function("() => !document.querySelector('#stop-btn').disabled", timeout=30000)
    deadline = time.monotonic() + 120
    while len(last_answer(page)) < 40 or "⏳" in last_answer(page):
        assert time.monotonic() < deadline, last_answer(page)
        page.wait_for_timeout(50)
    assert stop_look(page) == (True, True)
    page.click("#stop-btn")
    page.wait_for_function("() => document.querySelector('#stop-btn').disabled", timeout=10000)
    assert stop_look(page) == (False, False)
    assert "已停止" in page.inner_text("#status")


BROKEN_WORDS = """() => [...document.querySelectorAll('.fn-btn')].flatMap((button) => {
  const broken = [];
  const walker = document.createTreeWalker(button, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode())) {
    for (const word of node.textContent.matchAll(/\\S+/g)) {
      const range = document.createRange();
      range.setStart(node, word.index);
      range.setEnd(node, word.index + word[0].length);
      const lines = new Set([...range.getClientRects()].map((rect) => Math.round(rect.top)));
      if (lines.size > 1) broken.push(`${button.id}: ${word[0]}`);
    }
  }
  if (button.scrollWidth > button.clientWidth + 1) broken.push(`${button.id}: cut off`);
  return broken;
})"""


@pytest.mark.parametrize("width", [1280, 800])
def test_function_buttons_never_break_a_word(app, browser, width):
    context = browser.new_context(viewport={"width": width, "height": 900})
    try:
        page = open_page(context, app.url)
        for lang in ("zh", "en"):
            switch(page, lang)
            label = "Polish (academic)" if lang == "en" else "学术语料润色"
            page.wait_for_function(f"() => document.querySelector('#fn-polish')?.innerText?.trim() === {label!r}")
            assert page.locator(".fn-btn").count() >= 7
            assert page.evaluate(BROKEN_WORDS) == [], f"{lang} at {width} px"
            page.locator("#fn-polish").scroll_into_view_if_needed()
            shot(page, f"function-buttons-{lang}-{width}")
    finally:
        context.close()
