"""多模型同时询问: one prompt to several models at once, their answers and a table of their figures."""

from __future__ import annotations

from request_llms.compat import options_from
from request_llms.errors import LLMError
from request_llms.lanes import Lane, run_lanes
from request_llms.text import Text
from toolbox import CatchException, update_ui

from .models.selection import selected_models
from .runtime.errors import PluginInputError
from .runtime.registry import Field, Plugin

MAX_MODELS = 6


def figures_table(lanes: list[Lane], lang: str) -> str:
    zh = lang == "zh"
    head = (
        "| 模型 | 首字延迟 (s) | 速度 (tok/s) | 长度 (tok) | 状态 |"
        if zh
        else "| Model | First token (s) | tok/s | Length (tok) | State |"
    )
    rows = [head, "|---|---:|---:|---:|---|"]
    for lane in lanes:
        stream = lane.stream
        ttft = f"{stream.time_to_first_token:.2f}" if stream and stream.time_to_first_token is not None else "–"
        speed = f"{stream.tokens_per_second:.1f}" if stream and stream.tokens_per_second else "–"
        length = str(stream.completion_tokens) if stream and stream.text else "0"
        if lane.error:
            state = "⚠ " + lane.error
        elif stream is not None and stream.cancelled:
            state = "已停止" if zh else "stopped"
        else:
            state = "完成" if zh else "done"
        rows.append(f"| {lane.model} | {ttft} | {speed} | {length} | {state} |")
    return "\n".join(rows)


@CatchException
def multi_model(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    say = chatbot.say
    if not (txt or "").strip():
        raise PluginInputError(en="Write the question in the box first.", zh="请先在输入框中写下问题。")
    specs = chatbot.allowed(selected_models(plugin_kwargs, llm_kwargs))
    if not 2 <= len(specs) <= MAX_MODELS:
        raise PluginInputError(
            en=f"Give 2 to {MAX_MODELS} models in the Models field, e.g. ollama-qwen2.5:7b & vllm-Qwen2.5-7B.",
            zh=f"请在「模型」栏填写 2 到 {MAX_MODELS} 个模型，例如 ollama-qwen2.5:7b & vllm-Qwen2.5-7B。",
        )
    chatbot.append([txt, "…"])
    lanes: list[Lane] = []
    options = options_from(llm_kwargs)
    for lanes in run_lanes(specs, txt, [], system_prompt, options, chatbot.cancel, chatbot.config, chatbot.lang):
        chatbot[-1] = [txt, _answers(lanes, chatbot.lang)]
        yield from update_ui(chatbot, history)
    table = figures_table(lanes, chatbot.lang)
    report = (
        f"# {say(zh='多模型同时询问', en='Several models at once')}\n\n> {txt}\n\n{table}\n\n{_answers(lanes, chatbot.lang)}\n"
    )
    if all(lane.error and not lane.text for lane in lanes):  # not one model answered: a failed run, nothing kept
        first = lanes[0].failure or Text(zh=lanes[0].error, en=lanes[0].error)
        raise LLMError(
            zh=f"{len(lanes)} 个模型都没有回答：{first.text('zh')}",
            en=f"None of the {len(lanes)} models answered: {first.text('en')}",
        )
    saved = chatbot.write_output("multi-model.md", report)
    chatbot[-1] = [txt, f"{table}\n\n{_answers(lanes, chatbot.lang)}\n\n📄 {saved.name}"]
    history.extend([txt, chatbot[-1][1]])
    yield from update_ui(chatbot, history)


def _answers(lanes: list[Lane], lang: str) -> str:
    return "\n\n".join(f"### {lane.model}\n\n{lane.markdown(lang)}" for lane in lanes)


PLUGIN = Plugin(
    key="multi_model",
    zh="多模型同时询问",
    en="Ask several models at once",
    group="models",
    about_zh="把输入框中的问题同时发给多个模型（在「模型」栏填写，用 & 或逗号分隔；留空则用下拉框中的 A&B 组合），"
    "给出各自的回答和首字延迟、速度、长度对照表。",
    about_en="Send the question in the box to several models at once (list them in the Models field, separated by & "
    "or commas; empty: the A&B pick of the dropdown), with their answers and a table of first-token time, speed "
    "and length.",
    run=multi_model,
    fields=(Field("models", zh="模型（用 & 分隔）", en="Models (separated by &)"),),
)
