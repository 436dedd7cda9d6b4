"""The page: chat on the left; model, basic functions, uploads, settings and conversations on the right; a compare tab.

Element ids are a contract (DESIGN.md): model-select, user-input, submit-btn, stop-btn, chatbot. The plugin
menu: plugin-select, plugin-field-0..2, plugin-files, plugin-run-btn, plugin-outputs.
"""

from __future__ import annotations

import json

import gradio as gr

from request_llms.model_spec import split_models
from request_llms.text import Text

from .api_usage import api_usage_shown
from .functions import all_functions
from .handlers import IDLE_STOP, MAX_COMPARE, Handlers
from .i18n import STRINGS, t
from .images import remote_images_as_links
from .plugin_page import MAX_FIELDS, PluginHandlers, plugin_choices

LATEX = [
    {"left": "$$", "right": "$$", "display": True},
    {"left": "$", "right": "$", "display": False},
    {"left": "\\(", "right": "\\)", "display": False},
    {"left": "\\[", "right": "\\]", "display": True},
]
CSS = """
#chatbot { min-height: 480px; }
#status { min-height: 1.6em; font-size: 0.9em; opacity: 0.85; }
.fn-row { flex-wrap: wrap !important; gap: 6px !important; }
.fn-btn { flex: 1 1 auto !important; min-width: min-content !important; word-break: keep-all; overflow-wrap: normal; }
footer { display: none !important; }
"""  # a function button is never narrower than its longest word; Gradio's footer does not follow the switch

# Enter sends and Shift+Enter starts a new line in the prompt and compare boxes (Gradio's multi-line box
# submits on its own Shift+Enter keypress). Keys that finish an input method's composition (Chinese,
# Japanese) are left alone.
HEAD = """
<script>
(() => {
  const boxes = {"user-input": "#submit-btn", "compare-input": "#compare-btn"};
  const ours = (e) => {
    if (e.key !== "Enter" || e.isComposing || e.keyCode === 229) return null;
    const box = e.target;
    if (!(box instanceof HTMLTextAreaElement)) return null;
    const id = Object.keys(boxes).find((id) => box.closest("#" + id));
    return id ? boxes[id] : null;
  };
  document.addEventListener("keydown", (e) => {
    const button = ours(e);
    if (!button) return;
    e.stopPropagation();
    if (e.shiftKey) return;  // the browser adds the new line
    e.preventDefault();
    document.querySelector(button).click();
  }, true);
  document.addEventListener("keypress", (e) => { if (ours(e)) e.stopPropagation(); }, true);
})();
</script>
"""

# The browser tab's title and the document's language (for line breaking and screen readers) follow the switch.
_PAGE_LANGUAGE = f"""(code) => {{
  document.title = code === "en" ? {json.dumps(STRINGS["title"].en)} : {json.dumps(STRINGS["title"].zh)};
  document.documentElement.lang = code === "en" ? "en" : "zh-CN";
}}"""


def page_language(config) -> str:
    return "en" if config["LANGUAGE"] == "en" else "zh"


class _Labels:
    """Components whose words change with the language switch.

    Each attribute names a key of STRINGS, or gives the Text itself.
    """

    def __init__(self) -> None:
        self.items: list[tuple[gr.blocks.Block, dict[str, str | Text]]] = []

    def add(self, component, **attributes: str | Text):
        self.items.append((component, attributes))
        return component

    def updates(self, lang: str) -> list:
        def word(key: str | Text) -> str:
            return (STRINGS[key] if isinstance(key, str) else key).text(lang)

        return [gr.update(**{attr: word(key) for attr, key in attributes.items()}) for _, attributes in self.items]


def build_app(config) -> gr.Blocks:
    lang0 = page_language(config)
    handlers = Handlers(config)
    plugins = PluginHandlers(handlers)
    labels = _Labels()

    def L(key: str) -> str:
        return t(key, lang0)

    with gr.Blocks(title=L("title")) as app:
        # The language choice is no secret: a fixed key keeps it across restarts. Who the user is lives
        # in a server-sealed cookie (webui/owners.py), never in what the page's script can read.
        saved_lang = gr.BrowserState(lang0, storage_key="localscholar-lang", secret="localscholar-language")
        conv = gr.State(None)
        with gr.Row():
            labels.add(
                gr.Markdown(f"## {L('title')}", elem_id="title"),
                value=Text(zh=f"## {STRINGS['title'].zh}", en=f"## {STRINGS['title'].en}"),
            )
            with gr.Column(scale=0, min_width=220):
                lang = labels.add(
                    gr.Radio(
                        [("中文", "zh"), ("English", "en")],
                        value=lang0,
                        label=L("language"),
                        show_label=False,
                        elem_id="lang-select",
                        container=False,
                    ),
                    label="language",
                )
        with gr.Tabs():
            with labels.add(gr.Tab(L("chat"), id="chat"), label="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = labels.add(
                            remote_images_as_links(
                                gr.Chatbot(
                                    elem_id="chatbot",
                                    label=L("chat"),
                                    height=560,
                                    latex_delimiters=LATEX,
                                    buttons=["copy", "copy_all"],
                                    feedback_options=None,
                                )
                            ),
                            label="chat",
                        )
                        user_input = labels.add(
                            gr.Textbox(
                                elem_id="user-input", lines=3, max_lines=12, label=L("input"), placeholder=L("placeholder")
                            ),
                            label="input",
                            placeholder="placeholder",
                        )
                        with gr.Row():
                            submit = labels.add(gr.Button(L("submit"), elem_id="submit-btn", variant="primary"), value="submit")
                            stop = labels.add(gr.Button(L("stop"), elem_id="stop-btn", **IDLE_STOP), value="stop")
                            retry = labels.add(gr.Button(L("retry"), elem_id="retry-btn"), value="retry")
                            new = labels.add(gr.Button(L("new_chat"), elem_id="new-chat-btn"), value="new_chat")
                        status = gr.Markdown(elem_id="status")
                        plugin_html = gr.HTML(visible=False, elem_id="plugin-html")  # charts drawn by plugins
                    with gr.Column(scale=2):
                        with gr.Row():
                            model = labels.add(
                                gr.Dropdown(
                                    handlers.catalog.choices(lang0),
                                    value=config["LLM_MODEL"],
                                    label=L("model"),
                                    elem_id="model-select",
                                    scale=4,
                                ),
                                label="model",
                            )
                            refresh = labels.add(gr.Button(L("refresh"), elem_id="refresh-models", scale=1), value="refresh")
                        model_note = gr.Markdown(elem_id="model-note")  # what keeps the picked model from answering, and the fix
                        with labels.add(gr.Accordion(L("functions"), open=True), label="functions"):
                            buttons = {}
                            with gr.Row(elem_classes="fn-row"):
                                for function in all_functions(config):
                                    buttons[function.key] = labels.add(
                                        gr.Button(
                                            function.label(lang0), size="sm", elem_id=f"fn-{function.key}", elem_classes="fn-btn"
                                        ),
                                        value=Text(zh=function.zh, en=function.en),
                                    )
                        with labels.add(gr.Accordion(L("plugins"), open=True), label="plugins"):
                            plugin_select = labels.add(
                                gr.Dropdown(
                                    plugin_choices(config, lang0), value=None, label=L("plugin_select"), elem_id="plugin-select"
                                ),
                                label="plugin_select",
                            )
                            plugin_about = gr.Markdown(elem_id="plugin-about")
                            plugin_fields = [
                                gr.Textbox(visible=False, elem_id=f"plugin-field-{i}", lines=1) for i in range(MAX_FIELDS)
                            ]
                            plugin_files = labels.add(
                                gr.Dropdown(
                                    [], multiselect=True, label=L("plugin_files"), elem_id="plugin-files", interactive=True
                                ),
                                label="plugin_files",
                            )
                            plugin_run = labels.add(
                                gr.Button(L("plugin_run"), variant="primary", elem_id="plugin-run-btn"), value="plugin_run"
                            )
                            plugin_outputs = labels.add(
                                gr.File(
                                    visible=False,
                                    file_count="multiple",
                                    interactive=False,
                                    label=L("plugin_outputs"),
                                    elem_id="plugin-outputs",
                                ),
                                label="plugin_outputs",
                            )
                        with labels.add(gr.Accordion(L("upload"), open=False), label="upload"):
                            files = gr.File(file_count="multiple", elem_id="file-upload", show_label=False)
                            upload_note = gr.Markdown(elem_id="upload-note")
                        with labels.add(gr.Accordion(L("settings"), open=False), label="settings") as settings_panel:
                            temperature = labels.add(
                                gr.Slider(0, 2, value=0.7, step=0.05, label=L("temperature"), elem_id="temperature"),
                                label="temperature",
                            )
                            top_p = labels.add(gr.Slider(0.05, 1, value=1.0, step=0.05, label=L("top_p")), label="top_p")
                            max_length = labels.add(
                                gr.Slider(0, 8192, value=0, step=1, label=L("max_length"), elem_id="max-length"),
                                label="max_length",
                            )
                            system = labels.add(gr.Textbox(lines=3, label=L("system"), elem_id="system-prompt"), label="system")
                            api_usage = gr.Markdown(elem_id="api-usage")
                        with labels.add(gr.Accordion(L("history"), open=True), label="history"):
                            history_list = labels.add(
                                gr.Dropdown([], label=L("open"), elem_id="history-list", interactive=True), label="open"
                            )
                            with gr.Row():
                                delete = labels.add(gr.Button(L("delete"), size="sm", elem_id="delete-chat"), value="delete")
                                export = labels.add(gr.Button(L("export"), size="sm", elem_id="export-chat"), value="export")
                            exported = gr.File(visible=False, elem_id="export-file", show_label=False, interactive=False)
            with labels.add(gr.Tab(L("compare"), id="compare"), label="compare"):
                compare_models = labels.add(
                    gr.Dropdown(
                        handlers.catalog.choices(lang0),
                        multiselect=True,
                        max_choices=MAX_COMPARE,
                        allow_custom_value=True,
                        label=L("compare_models"),
                        elem_id="compare-models",
                    ),
                    label="compare_models",
                )
                compare_input = labels.add(
                    gr.Textbox(lines=3, label=L("compare_input"), elem_id="compare-input"), label="compare_input"
                )
                with gr.Row():
                    compare_send = labels.add(
                        gr.Button(L("compare_send"), variant="primary", elem_id="compare-btn"), value="compare_send"
                    )
                    compare_stop = labels.add(gr.Button(L("stop"), elem_id="compare-stop-btn", **IDLE_STOP), value="stop")
                compare_note = gr.Markdown(elem_id="compare-note")
                with gr.Row():
                    answers, facts = [], []
                    for i in range(MAX_COMPARE):
                        with gr.Column(min_width=240):
                            answer = gr.Markdown(visible=False, elem_id=f"compare-answer-{i}", latex_delimiters=LATEX)
                            answers.append(remote_images_as_links(answer))
                            facts.append(gr.Markdown(visible=False, elem_id=f"compare-figures-{i}"))

        # ---- wiring ----
        settings = [temperature, top_p, max_length, system]
        chat_outputs = [chatbot, conv, status, user_input, history_list]
        ask_inputs = [user_input, model, *settings, conv, lang]
        stops = [stop, compare_stop]  # bright while a run of the page goes on

        def lit(run, outputs: list) -> dict:
            return {"fn": handlers.with_stop(run, len(outputs), len(stops)), "outputs": [*outputs, *stops]}

        submit.click(inputs=ask_inputs, **lit(handlers.send, chat_outputs), concurrency_limit=None, api_name="send")
        user_input.submit(inputs=ask_inputs, **lit(handlers.send, chat_outputs), concurrency_limit=None, api_name=False)
        for key, button in buttons.items():
            button.click(inputs=ask_inputs, **lit(handlers.run_function(key), chat_outputs), concurrency_limit=None)
        retry.click(inputs=[model, *settings, conv, lang], **lit(handlers.retry, chat_outputs), concurrency_limit=None)
        stop.click(handlers.stop, None, None, concurrency_limit=None, queue=False)
        compare_stop.click(handlers.stop, None, None, concurrency_limit=None, queue=False)
        new.click(handlers.new_chat, None, [conv, chatbot, status, history_list])
        refresh.click(handlers.refresh_models, [lang], [model]).then(handlers.catalog.note, [model, lang], [model_note])
        model.change(handlers.catalog.note, [model, lang], [model_note], show_progress="hidden")
        lang.change(handlers.catalog.note, [model, lang], [model_note], show_progress="hidden")
        app.load(handlers.catalog.note, [model, saved_lang], [model_note], show_progress="hidden")
        refresh.click(handlers.refresh_models, [lang], [compare_models])
        history_list.input(handlers.open_conversation, [history_list], [conv, chatbot, model])
        delete.click(handlers.delete_conversation, [history_list, conv], [conv, chatbot, history_list], api_name="delete")
        export.click(handlers.export, [conv], [exported], api_name="export")
        files.upload(handlers.upload, [files, lang], [upload_note, files], api_name="upload").then(
            plugins.upload_choices, None, [plugin_files]
        )
        plugin_select.change(plugins.describe, [plugin_select, lang], [plugin_about, *plugin_fields], show_progress="hidden")
        plugin_run.click(
            inputs=[plugin_select, *plugin_fields, plugin_files, user_input, model, *settings, conv, lang],
            **lit(plugins.run, [*chat_outputs, plugin_outputs, plugin_html]),
            concurrency_limit=None,
            api_name="plugin",
        )
        lang.change(plugins.relabel, [lang, plugin_select], [plugin_select, plugin_about, *plugin_fields], show_progress="hidden")
        lang.change(handlers.relabel_models, [lang, model, compare_models], [model, compare_models], show_progress="hidden")
        lang.change(None, [lang], None, js=_PAGE_LANGUAGE)

        def show_api_usage(code: str, request: gr.Request) -> str:
            return api_usage_shown(config, code, request)

        for shown in (lang.change, settings_panel.expand):
            shown(show_api_usage, [lang], [api_usage], show_progress="hidden")
        compare_send.click(
            inputs=[compare_models, compare_input, *settings, lang],
            **lit(handlers.compare, [compare_note, *answers, *facts]),
            concurrency_limit=None,
            api_name="compare",
        )
        model.input(_open_compare, [model], [compare_models])

        labelled = [component for component, _ in labels.items]
        lang.change(lambda code: [*labels.updates(code), code], [lang], [*labelled, saved_lang])
        app.load(handlers.on_load, [saved_lang], [conv, chatbot, history_list, model], api_name="on_load").then(
            lambda code: code, [saved_lang], [lang]
        ).then(plugins.upload_choices, None, [plugin_files]).then(None, [saved_lang], None, js=_PAGE_LANGUAGE)
    return app


def _open_compare(model_id: str):
    """An `A&B` identifier picked in the dropdown also fills the compare tab with its models."""
    if model_id and "&" in model_id:
        return gr.Dropdown(value=split_models(model_id)[:MAX_COMPARE])
    return gr.skip()
