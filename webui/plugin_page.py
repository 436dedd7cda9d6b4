"""The plugin menu's behaviour: pick a plugin, give it uploaded files and fields, run it, download what it wrote.

A plugin runs as GPT Academic's generator on a PluginChatbot built from the conversation; every time
it yields, the page redraws the chat from that list. Stop cancels the run's token (pieces in flight
stop, finished ones are kept by the plugin). Files it writes go to the user's `outputs` folder and are
offered for download; only the user's own uploads are handed to it.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
import uuid
from collections import OrderedDict
from pathlib import Path

import gradio as gr

from crazy_functions.runtime.files import hand_over, screen_field
from crazy_functions.runtime.registry import Plugin, all_plugins, plugin_named
from crazy_functions.runtime.session import PluginChatbot, ending, stepped
from request_llms.errors import LLMError
from request_llms.redraw import Throttle
from toolbox import error_line
from userfiles import user_dir, user_home

from .i18n import t
from .owners import offer
from .store import Conversation

log = logging.getLogger("localscholar.plugins")
MAX_FIELDS = 3
KEPT_COOKIES = 256


def plugin_choices(config, lang: str) -> list[tuple[str, str]]:
    return [(plugin.menu_label(lang), plugin.key) for plugin in all_plugins(config)]


def pairs_of(messages: list[dict]) -> list[list]:
    """The chat's messages as GPT Academic's [question, answer] pairs."""
    pairs: list[list] = []
    for message in messages:
        if message["role"] == "user":
            pairs.append([message["content"], None])
        elif pairs and pairs[-1][1] is None:
            pairs[-1][1] = message["content"]
        else:
            pairs.append([None, message["content"]])
    return pairs


def messages_of(pairs: list) -> list[dict]:
    messages = []
    for question, answer in pairs:
        if question not in (None, ""):
            messages.append({"role": "user", "content": str(question)})
        if answer is not None:
            messages.append({"role": "assistant", "content": str(answer)})
    return messages


def uploads_of(folder: Path) -> list[str]:
    """The user's uploaded files, newest first."""
    files = [path for path in folder.iterdir() if path.is_file()]
    return [path.name for path in sorted(files, key=lambda path: path.stat().st_mtime, reverse=True)]


def files_for(plugin: Plugin, folder: Path, chosen: list[str] | None) -> list[Path]:
    """The uploads a run gets: those picked (names only, from this user's folder), else the newest of its types.

    A plugin of CUSTOM_PLUGINS names no types (GPT Academic's plugins look in the folder they are handed):
    it gets the newest upload of any type.
    """
    names = set(uploads_of(folder))
    picked = [folder / name for name in (chosen or []) if name in names]
    if picked or (plugin.files == () and not plugin.gpt_academic):
        return picked
    types = plugin.files or None
    newest = next((name for name in uploads_of(folder) if types is None or Path(name).suffix.lower() in types), None)
    return [folder / newest] if newest else []


def describe(config, key: str | None, lang: str) -> list:
    """The description and field boxes of the chosen plugin."""
    plugin = plugin_named(key, config) if key else None
    if plugin is None:
        return [gr.Markdown(""), *[gr.Textbox(visible=False, value="") for _ in range(MAX_FIELDS)]]
    about = plugin.about(lang)
    if plugin.files:
        kinds = " ".join(plugin.files)
        about += f"\n\n*{t('plugin_takes', lang, kinds=kinds)}*"
    boxes = []
    for i in range(MAX_FIELDS):
        if i < len(plugin.fields):
            field = plugin.fields[i]
            boxes.append(gr.Textbox(visible=True, label=field.label(lang), value=field.default, placeholder=field.hint))
        else:
            boxes.append(gr.Textbox(visible=False, value=""))
    return [gr.Markdown(about), *boxes]


def plugin_arguments(plugin: Plugin, values: list[str | None]) -> dict:
    """plugin_kwargs from the field boxes (fields beyond the boxes keep their defaults), and GPT Academic's
    one free-text argument, `advanced_arg`: the first box, where no field has that name."""
    shown = values[: len(plugin.fields)] + [field.default for field in plugin.fields[len(values) :]]
    arguments = {field.key: value for field, value in zip(plugin.fields, shown, strict=True) if (value or "").strip()}
    if not any(field.key == "advanced_arg" for field in plugin.fields):
        arguments["advanced_arg"] = (values[0] or "").strip()
    return arguments


def handed_text(text: str, plugin_kwargs: dict, home: Path, files: list[Path], run_folder: Path) -> str:
    """What a GPT Academic plugin gets as `txt` (runtime.files.hand_over), its fields screened first; nothing is
    left behind when it is refused."""
    try:
        for value in plugin_kwargs.values():
            screen_field(str(value))
        return hand_over(text, home, files, run_folder)
    except Exception:
        shutil.rmtree(run_folder, ignore_errors=True)
        raise


class PluginHandlers:
    def __init__(self, handlers) -> None:
        self.h = handlers
        self.config = handlers.config
        self._cookies: OrderedDict[tuple[str, str], dict] = OrderedDict()  # (user, conversation) -> cookies
        self._lock = threading.Lock()

    def cookies(self, user: str, conversation_id: str) -> dict:
        """The cookies GPT Academic's plugins keep between runs in one conversation (the latest 256, in memory)."""
        key = (user, conversation_id)
        with self._lock:
            kept = self._cookies[key] = self._cookies.pop(key, {})
            while len(self._cookies) > KEPT_COOKIES:
                self._cookies.popitem(last=False)
        return kept

    def describe(self, key: str | None, lang: str) -> list:
        return describe(self.config, key, lang)

    def relabel(self, lang: str, key: str | None) -> list:
        """The menu and the chosen plugin's words in another language."""
        return [gr.Dropdown(choices=plugin_choices(self.config, lang)), *describe(self.config, key, lang)]

    def upload_choices(self, request: gr.Request) -> gr.Dropdown:
        folder = user_dir(self.config, self.h.user(request), "uploads")
        return gr.Dropdown(choices=uploads_of(folder), value=[])

    def run(self, key, f0, f1, f2, chosen, text, model_id, temperature, top_p, max_length, system, conv, lang,
            request: gr.Request):  # fmt: skip
        self.h.set_language(lang, request)
        plugin = plugin_named(key, self.config) if key else None
        if plugin is None:
            yield gr.skip(), gr.skip(), t("pick_plugin", lang), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        try:
            self.h.catalog.allowed(model_id)
        except LLMError as exc:  # nothing ran: nothing is saved
            yield gr.skip(), gr.skip(), f"⚠ {exc.text(lang)}", gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        user = self.h.user(request)
        files = files_for(plugin, user_dir(self.config, user, "uploads"), chosen)
        run_folder = user_dir(self.config, user, "runs") / f"{time.strftime('%Y-%m-%d-%H-%M-%S')}-{uuid.uuid4().hex[:6]}"
        plugin_kwargs = plugin_arguments(plugin, [f0, f1, f2])
        if plugin.gpt_academic:  # GPT Academic's plugins read the folder named in the box
            try:
                text = handed_text(text, plugin_kwargs, user_home(self.config, user), files, run_folder)
            except LLMError as exc:  # a web address, or a path outside the user's folders: nothing ran or is saved
                yield gr.skip(), gr.skip(), f"⚠ {exc.text(lang)}", gr.skip(), gr.skip(), gr.skip(), gr.skip()
                return
        conv = conv or Conversation()
        cookies = self.cookies(user, conv.id)
        if run_folder.exists():
            cookies["most_recent_uploaded"] = {"path": str(run_folder), "time": time.time(), "time_str": run_folder.name}
        history = list(conv.history)
        token = self.h.begin(request)
        chatbot = PluginChatbot(
            pairs_of(conv.messages),
            lang=lang,
            cancel=token,
            files=files,
            out_dir=user_dir(self.config, user, "outputs") / conv.id,
            config=self.config,
            allowed=self.h.catalog.allowed,
            user=user,
            cookies=cookies,
        )
        llm_kwargs = {"llm_model": model_id, "temperature": float(temperature), "top_p": float(top_p),
                      "max_length": int(max_length) or None,
                      "api_key": "",  # keys stay in the model layer; GPT Academic's select_api_key says so
                      "most_recent_uploaded": cookies.get("most_recent_uploaded")}  # fmt: skip
        status, throttle = "", Throttle()  # "": the plugin said nothing, the page says it runs
        try:
            for update in stepped(plugin.run(text, llm_kwargs, plugin_kwargs, chatbot, history, system, request), chatbot):
                if isinstance(update, tuple) and len(update) > 2 and isinstance(update[2], str) and update[2] != "正常":
                    status = update[2]
                if not throttle.due():
                    continue
                now = self.h.language(request, lang)
                shown = status or t("plugin_running", now, name=plugin.label(now))
                yield messages_of(chatbot), conv, shown, gr.skip(), gr.skip(), gr.skip(), gr.skip()
            now = self.h.language(request, lang)
            failed = ending(chatbot)
            if failed and not chatbot.failure:  # said only in the status so far: the conversation keeps it too
                chatbot.append([None, failed])
            if failed:
                status = failed
            else:
                status = t("stopped", now) if chatbot.stopped else t("plugin_done", now, name=plugin.label(now))
        except Exception as exc:  # a plugin written elsewhere may let an error out: one line, never a traceback
            if not isinstance(exc, LLMError):
                log.exception("plugin %s failed", plugin.key)
            chatbot.append([None, f"⚠ {error_line(exc, lang)}"])
            status = f"⚠ {error_line(exc, self.h.language(request, lang))}"
        finally:
            token.cancel()  # the page went away mid-run (or the run ended): no piece keeps the server busy
            shutil.rmtree(run_folder, ignore_errors=True)  # what it wanted to keep, it offered for download
            cookies.pop("most_recent_uploaded", None)
            self.h.end(request, token)
            conv.messages = messages_of(chatbot)
            conv.history = [str(item) for item in history][: len(history) // 2 * 2]
            conv.model = model_id
            if not conv.title and conv.messages:
                conv.title = plugin.label(lang)
            self.h.store.save(user, conv)
        charts = gr.HTML(value=chatbot.extra_html, visible=bool(chatbot.extra_html))
        yield (
            messages_of(chatbot),
            conv,
            status,
            gr.skip(),
            self.h.history_choices(user),
            self._downloads(user, conv.id, chatbot.outputs),
            charts,
        )

    def _downloads(self, user: str, conversation_id: str, outputs: list[Path]) -> gr.File:
        """The run's output files, offered where only this user can download them."""
        if not outputs:
            return gr.File(value=None, visible=False)
        return gr.File(value=offer(self.config, user, conversation_id, outputs), visible=True)
