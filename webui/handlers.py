"""What the page's buttons do: answer, stop, retry, functions, conversations, uploads, compare.

Every handler works out the user from the request (signed-in name or the browser's id) and touches only
that user's conversations and files. Answers stream through `request_llms.chat`; Stop cancels the
backend through the session's CancelTokens, so the server stops generating and the partial answer stays.
"""

from __future__ import annotations

import functools
import re
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path

import gradio as gr

from request_llms.chat import chat
from request_llms.errors import REFUSALS, LLMError
from request_llms.lanes import internal_error, run_lanes
from request_llms.redraw import Throttle
from request_llms.request import CancelToken, ChatOptions, Status
from request_llms.runtime import runtime_of
from request_llms.thinking import folded
from userfiles import user_dir

from .compare import lane_figures, lanes_markdown
from .figures import figures
from .functions import all_functions
from .i18n import t
from .owners import forget, just_uploaded, offer, page_secret, user_of
from .store import Conversation, open_store
from .waiting import waiting_line

MAX_COMPARE = 4
KEPT_LANGUAGES = 4096  # page sessions whose language switch is remembered
IDLE_STOP = {"interactive": False, "variant": "secondary"}  # the Stop button while nothing runs
BUSY_STOP = {"interactive": True, "variant": "stop"}


def _options(temperature: float, top_p: float, max_length: float) -> ChatOptions:
    return ChatOptions(temperature=float(temperature), top_p=float(top_p), max_tokens=int(max_length) or None)


class Handlers:
    """The page's behaviour, shared by every browser; per-user state lives in the store and in gr.State."""

    def __init__(self, config) -> None:
        self.config = config
        self.catalog = runtime_of(config).catalog
        runtime_of(config).open_to_users()  # GPT Academic's bridge calls from plugins: only models this page offers
        self.store = open_store(config)
        self.functions = {f.key: f for f in all_functions(config)}
        self.secret = page_secret(config)
        self._active: dict[str, set[CancelToken]] = {}
        self._langs: OrderedDict[str, str] = OrderedDict()  # page session -> the language it shows now
        self._lock = threading.Lock()

    def user(self, request: gr.Request | None) -> str:
        return user_of(request, self.secret)

    # ---- cancel tokens per page session -----------------------------------------------------
    def begin(self, request: gr.Request | None) -> CancelToken:
        token = CancelToken()
        with self._lock:
            self._active.setdefault(self._session(request), set()).add(token)
        return token

    def end(self, request: gr.Request | None, token: CancelToken) -> None:
        with self._lock:
            self._active.get(self._session(request), set()).discard(token)

    @staticmethod
    def _session(request: gr.Request | None) -> str:
        return getattr(request, "session_hash", None) or ""

    def stop(self, request: gr.Request) -> None:
        """Stop every answer this page is waiting for."""
        with self._lock:
            tokens = list(self._active.get(self._session(request), ()))
        for token in tokens:
            token.cancel()

    def with_stop(self, run: Callable[..., Iterator], outputs: int, buttons: int = 2) -> Callable[..., Iterator]:
        """`run` (yielding updates of `outputs` components) with the page's Stop `buttons` after them: bright
        from its first update, dim after its last unless another run of the page goes on. The last update comes
        again with the buttons' final look, so an API caller's result is still the run's own. Gradio sees
        `run`'s own parameters."""

        @functools.wraps(run)
        def lit(*args, **kwargs):
            request = next((a for a in [*args, *kwargs.values()] if isinstance(a, gr.Request)), None)
            look, last = [gr.Button(**BUSY_STOP) for _ in range(buttons)], (gr.skip(),) * outputs
            for update in run(*args, **kwargs):
                last = tuple(update)
                yield (*last, *look)
                look = [gr.skip()] * buttons
            with self._lock:
                running = bool(self._active.get(self._session(request)))
            yield (*last, *[gr.Button(**(BUSY_STOP if running else IDLE_STOP)) for _ in range(buttons)])

        return lit

    # ---- the page's language ------------------------------------------------------------------
    def set_language(self, lang: str, request: gr.Request | None) -> None:
        """The language switch moved: answers still running draw their next words in `lang`."""
        with self._lock:
            self._langs[self._session(request)] = lang
            self._langs.move_to_end(self._session(request))
            while len(self._langs) > KEPT_LANGUAGES:
                self._langs.popitem(last=False)

    def language(self, request: gr.Request | None, lang: str) -> str:
        """The language the page shows now; `lang` (the switch when the run began) if it never moved."""
        with self._lock:
            return self._langs.get(self._session(request), lang)

    def relabel_models(self, lang: str, model: str | None, compared: list[str] | None, request: gr.Request):
        """The model dropdowns' labels in `lang`, keeping what is picked."""
        self.set_language(lang, request)
        choices = self.catalog.choices(lang)
        return gr.Dropdown(choices=choices, value=model), gr.Dropdown(choices=choices, value=compared or [])

    # ---- conversations -------------------------------------------------------------------------
    def history_choices(self, user: str) -> gr.Dropdown:
        rows = self.store.list(user)
        choices = [(f"{title} · {time.strftime('%m-%d %H:%M', time.localtime(updated))}", cid) for cid, title, updated in rows]
        return gr.Dropdown(choices=choices, value=None)

    def on_load(self, lang: str, request: gr.Request):
        """A page opens: reopen the user's latest conversation, look at the servers."""
        user = self.user(request)
        rows = self.store.list(user, limit=1)
        conv = (rows and self.store.load(user, rows[0][0])) or Conversation()
        model_update = gr.Dropdown(choices=self.catalog.choices(lang))
        if conv.model:
            model_update = gr.Dropdown(choices=self.catalog.choices(lang), value=conv.model)
        return conv, conv.messages, self.history_choices(user), model_update

    def refresh_models(self, lang: str) -> gr.Dropdown:
        return gr.Dropdown(choices=self.catalog.choices(lang, refresh=True))

    def new_chat(self, request: gr.Request):
        return Conversation(), [], "", self.history_choices(self.user(request))

    def open_conversation(self, conversation_id: str | None, request: gr.Request):
        user = self.user(request)
        conv = self.store.load(user, conversation_id) if conversation_id else None
        if conv is None:
            return gr.skip(), gr.skip(), gr.skip()
        model = conv.model if self.catalog.offers(conv.model) else gr.skip()
        return conv, conv.messages, model

    def delete_conversation(self, conversation_id: str | None, conv: Conversation, request: gr.Request):
        """Delete a conversation with everything made for it: its exports, plugin outputs and download copies."""
        user = self.user(request)
        if conversation_id:
            self.store.delete(user, conversation_id)
            forget(self.config, user, conversation_id)
        if conv is None or conversation_id == conv.id:
            conv = Conversation()
        return conv, conv.messages, self.history_choices(user)

    def export(self, conv: Conversation, request: gr.Request) -> gr.File:
        """The conversation as a Markdown file, kept in the user's exports and handed to the page to download."""
        if conv is None or not conv.messages:
            return gr.File(visible=False)
        user = self.user(request)
        name = re.sub(r"[^\w\-]+", "_", conv.title or "conversation")[:40].strip("_") or "conversation"
        folder = user_dir(self.config, user, "exports") / conv.id
        folder.mkdir(parents=True, exist_ok=True)
        kept = folder / f"{name}.md"
        kept.write_text(conv.markdown(), encoding="utf-8")
        return gr.File(value=offer(self.config, user, conv.id, [kept])[0], visible=True)

    # ---- uploads -------------------------------------------------------------------------------
    def upload(self, files: list[str] | None, lang: str, request: gr.Request):
        """Keep uploaded files in the user's folder, refusing any over MAX_UPLOAD_MB; Gradio's copies are removed."""
        folder = user_dir(self.config, self.user(request), "uploads")
        limit = self.config["MAX_UPLOAD_MB"]
        saved, refused = [], []
        for path in files or []:
            source = Path(path)
            if not just_uploaded(self.config, source):  # a forged event naming a file the client never sent
                refused.append(t("not_an_upload", lang, name=source.name))
                continue
            if source.stat().st_size > limit * 1024 * 1024:
                refused.append(t("too_big", lang, name=source.name, limit=limit))
            else:
                target = folder / (re.sub(r"[^\w.\-]+", "_", source.name).lstrip(".") or "file")
                shutil.copyfile(source, target)
                saved.append(target.name)
            _remove_upload_copy(source)
        lines = [t("uploaded", lang, n=len(saved), names=", ".join(saved))] if saved else []
        return "\n\n".join(lines + refused), None

    # ---- answering -----------------------------------------------------------------------------
    def send(self, text, model_id, temperature, top_p, max_length, system, conv, lang, request: gr.Request):
        if not text or not text.strip():
            yield gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        options = _options(temperature, top_p, max_length)
        yield from self._answer(text, text, model_id, options, system, conv, lang, request)

    def run_function(self, key: str):
        function = self.functions[key]

        def run(text, model_id, temperature, top_p, max_length, system, conv, lang, request: gr.Request):
            if not text or not text.strip():
                yield gr.skip(), gr.skip(), t("write_first", lang), gr.skip(), gr.skip()
                return
            shown = f"**{function.label(lang)}**\n\n{text}"
            options = _options(temperature, top_p, max_length)
            yield from self._answer(shown, function.build(text, lang), model_id, options, system, conv, lang, request)

        return run

    def retry(self, model_id, temperature, top_p, max_length, system, conv, lang, request: gr.Request):
        """Ask the last question again, in place of its answer."""
        if conv is None or len(conv.history) < 2 or len(conv.messages) < 2:
            yield gr.skip(), gr.skip(), t("nothing_to_retry", lang), gr.skip(), gr.skip()
            return
        prompt, shown = conv.history[-2], conv.messages[-2]["content"]
        conv.history, conv.messages = conv.history[:-2], conv.messages[:-2]
        options = _options(temperature, top_p, max_length)
        yield from self._answer(shown, prompt, model_id, options, system, conv, lang, request, clear=False)

    def _answer(self, shown, prompt, model_id, options, system, conv, lang, request, clear: bool = True) -> Iterator[tuple]:
        """Stream one answer into the chat and save the turn, however it ends.

        A request that is refused before anything is asked (a model not offered, a prompt too long for the
        window) is shown in the chat but not kept: it would only fill every later turn's window. Until the
        first word, the answer's bubble shows the wait: the model loading, or the requests ahead. Each update
        is drawn in the language the page shows at that moment.
        """
        self.set_language(lang, request)
        user = self.user(request)
        conv = conv or Conversation()
        box = "" if clear else gr.skip()
        history = list(conv.history)
        shown_messages = [*conv.messages, {"role": "user", "content": shown}]
        try:
            specs = self.catalog.allowed(model_id)
        except LLMError as exc:
            yield (
                [*shown_messages, {"role": "assistant", "content": f"⚠ {exc.text(lang)}"}],
                conv,
                exc.text(lang),
                gr.skip(),
                gr.skip(),
            )
            return
        wait = waiting_line(None, lang)
        reply = {"role": "assistant", "content": wait}
        messages = [*shown_messages, reply]
        token = self.begin(request)
        status, answer, refused, stream = "", "", False, None
        try:
            yield messages, conv, "…", box, gr.skip()
            if len(specs) > 1:
                for lanes in run_lanes(specs[:MAX_COMPARE], prompt, history, system, options, token, self.config, lang):
                    reply["content"] = lanes_markdown(lanes, self.language(request, lang))
                    yield messages, conv, "", box, gr.skip()
                answer = reply["content"]
                refused = all(lane.refused for lane in lanes)  # not one model was asked: the turn is not kept
                status = lanes[0].failure.text(self.language(request, lang)) if refused else ""
            else:
                stream = chat(specs[0], prompt, history, system, options, token, self.config, affinity=conv.id)
                throttle = Throttle()
                for event in stream.events():
                    now = self.language(request, lang)
                    if isinstance(event, Status):
                        status = event.text(now)
                        if not (stream.text or stream.thinking):
                            reply["content"] = wait = waiting_line(event, now)
                        throttle.mark()  # a status is shown at once
                    else:  # the thinking folded above the answer; only the answer is kept for the model
                        answer = stream.text
                        reply["content"] = folded(stream.thinking, answer, now, stream.thinking_seconds)
                        notice = stream.prompt.notice(now) if stream.prompt else ""
                        status = notice or t("thinking" if stream.thinking and not answer else "answering", now)
                        if not throttle.due():
                            continue  # many deltas in one update: each update resends the chat
                    yield messages, conv, status, box, gr.skip()
                now = self.language(request, lang)
                answer = stream.text
                reply["content"] = folded(stream.thinking, answer, now, stream.thinking_seconds)  # never the wait
                status = " · ".join(p for p in (figures(stream, now), stream.prompt.notice(now) if stream.prompt else "") if p)
        except LLMError as exc:
            now = self.language(request, lang)
            answer = exc.partial or answer
            refused = isinstance(exc, REFUSALS) and not answer
            shown = folded(stream.thinking, answer, now) if stream is not None else answer
            reply["content"] = (shown + "\n\n" if shown else "") + f"⚠ {exc.text(now)}"
            status = exc.text(now) if refused else ""
        except Exception as exc:
            now = self.language(request, lang)
            reply["content"] = (answer + "\n\n" if answer else "") + f"⚠ {internal_error(exc, now)}"
        finally:
            self.end(request, token)
            if reply["content"] == wait:  # the page went away before the first word: the wait is not kept
                reply["content"] = answer
            if not refused:
                conv.messages = messages
                conv.history = [*history, prompt, answer]
                conv.model = model_id
                self.store.save(user, conv)
        yield messages, conv, status, box, self.history_choices(user)

    # ---- the compare tab -----------------------------------------------------------------------
    def compare(self, models, text, temperature, top_p, max_length, system, lang, request: gr.Request):
        """Ask two to four models at once; yields each model's answer and figures, side by side."""
        blank = [gr.Markdown(visible=False)] * (2 * MAX_COMPARE)
        models = list(models or [])
        if not 2 <= len(models) <= MAX_COMPARE or not (text or "").strip():
            yield [t("need_models", lang), *blank]
            return
        self.set_language(lang, request)
        token = self.begin(request)
        try:
            specs = [spec for model in models for spec in self.catalog.allowed(model)][:MAX_COMPARE]
            options = _options(temperature, top_p, max_length)
            for lanes in run_lanes(specs, text, [], system, options, token, self.config, lang):
                yield ["", *self._lane_updates(lanes, self.language(request, lang))]
        except LLMError as exc:
            yield [f"⚠ {exc.text(self.language(request, lang))}", *blank]
        finally:
            self.end(request, token)

    @staticmethod
    def _lane_updates(lanes, lang: str) -> list:
        answers, facts = [], []
        for i in range(MAX_COMPARE):
            if i < len(lanes):
                answers.append(gr.Markdown(f"**{lanes[i].model}**\n\n{lanes[i].markdown(lang)}", visible=True))
                facts.append(gr.Markdown(lane_figures(lanes[i], lang), visible=True))
            else:
                answers.append(gr.Markdown(visible=False))
                facts.append(gr.Markdown(visible=False))
        return answers + facts


def _remove_upload_copy(path: Path) -> None:
    """Gradio keeps each upload in a folder of its own in the file cache; the user's folder is the one kept."""
    path.unlink(missing_ok=True)
    try:
        path.parent.rmdir()
    except OSError:
        pass
