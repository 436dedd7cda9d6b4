"""The chat page: model dropdown, prompt box, streaming answer, Stop that really stops the server.

Element ids are a contract (DESIGN.md): model-select, user-input, submit-btn, stop-btn, chatbot.
"""

from __future__ import annotations

from collections.abc import Iterator

import gradio as gr

from request_llms.backends.base import CancelToken, Status
from request_llms.chat import chat
from request_llms.errors import LLMError
from request_llms.registry import check_allowed, list_models

TITLE = "LocalScholar 本地学术助手"


def _figures(stream) -> str:
    parts = []
    if stream.time_to_first_token is not None:
        parts.append(f"首字 first token {stream.time_to_first_token:.2f} s")
    if stream.tokens_per_second:
        parts.append(f"{stream.tokens_per_second:.1f} tok/s")
    if stream.prompt and stream.prompt.budget:
        parts.append(f"上下文 context {stream.prompt.tokens}/{stream.prompt.budget}")
    return " · ".join(parts)


def build_app(config) -> gr.Blocks:
    lang = "en" if config["LANGUAGE"] == "en" else "zh"
    entries = list_models(config)
    discovered = {e.identifier for e in entries if e.source == "discovered"}
    choices = [(f"{e.identifier}{'' if e.reachable is not False else '  ⚠'}", e.identifier) for e in entries]

    def respond(text: str, model_id: str, system: str, messages: list, history: list) -> Iterator[tuple]:
        if not text.strip():
            yield messages, history, None, "", text
            return
        messages = [*messages, {"role": "user", "content": text}, {"role": "assistant", "content": ""}]
        token = CancelToken()
        yield messages, history, token, "", ""
        try:
            (spec,) = check_allowed(model_id, config, discovered)
            stream = chat(spec, text, history=history, system=system, cancel=token, config=config)
            for event in stream.events():
                if isinstance(event, Status):
                    yield messages, history, token, event.text(lang), ""
                    continue
                messages[-1]["content"] = stream.text
                yield messages, history, token, stream.prompt.notice(lang), ""
        except LLMError as exc:
            messages[-1]["content"] = (exc.partial + "\n\n" if exc.partial else "") + f"⚠ {exc.text(lang)}"
            yield messages, [*history, text, exc.partial], None, "", ""
            return
        stopped = " · 已停止 stopped" if stream.cancelled else ""
        yield messages, [*history, text, stream.text], None, _figures(stream) + stopped, ""

    def stop(token: CancelToken | None) -> None:
        if token is not None:
            token.cancel()

    with gr.Blocks(title=TITLE) as app:
        gr.Markdown(f"## {TITLE}")
        with gr.Row():
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(elem_id="chatbot", height=520, label="对话 Chat")
                user_input = gr.Textbox(
                    elem_id="user-input",
                    lines=3,
                    show_label=False,
                    placeholder="输入问题，Enter 发送，Shift+Enter 换行 / Ask; Enter sends",
                )
                with gr.Row():
                    submit = gr.Button("提交 Submit", elem_id="submit-btn", variant="primary")
                    stop_btn = gr.Button("停止 Stop", elem_id="stop-btn")
                status = gr.Markdown(elem_id="status")
            with gr.Column(scale=1):
                model = gr.Dropdown(choices, value=config["LLM_MODEL"], elem_id="model-select", label="模型 Model")
                system = gr.Textbox(label="系统提示 System prompt", lines=3)
        history = gr.State([])
        token = gr.State(None)
        outputs = [chatbot, history, token, status, user_input]
        inputs = [user_input, model, system, chatbot, history]
        sent = submit.click(respond, inputs, outputs)
        entered = user_input.submit(respond, inputs, outputs)
        stop_btn.click(stop, [token], None, cancels=[sent, entered])
    return app
