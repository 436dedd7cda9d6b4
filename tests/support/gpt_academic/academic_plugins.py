"""Plugins written the way GPT Academic's own plugins are: the folder in `txt`, its helpers by their names.

Each uses the public names its plugins import (toolbox, crazy_utils, bridge_all, pdf_fns) as they use
them, so the tests run them unchanged from the menu, as a GPT Academic user would bring them.
"""

import glob
import os

from crazy_functions.crazy_utils import (
    get_files_from_everything,
    input_clipping,
    read_and_clean_pdf_text,
    request_gpt_model_in_new_thread_with_ui_alive,
    request_gpt_model_multi_threads_with_very_awesome_ui_and_high_efficiency,
)
from crazy_functions.pdf_fns.breakdown_txt import breakdown_text_to_satisfy_token_limit
from request_llms.bridge_all import model_info
from toolbox import (
    CatchException,
    gen_time_str,
    generate_file_link,
    get_conf,
    get_log_folder,
    get_user,
    promote_file_to_downloadzone,
    report_exception,
    update_ui,
    update_ui_lastest_msg,
    write_history_to_file,
    zip_result,
)


@CatchException
def 批量总结文本(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    """Every .txt and .md in the folder handed over, cut by the model's window, one summary per piece."""
    chatbot.append(["函数插件功能？", "批量总结文本文件"])
    yield from update_ui(chatbot=chatbot, history=history)
    if os.path.exists(txt):
        project_folder = txt
    else:
        if txt == "":
            txt = "空空如也的输入栏"
        report_exception(chatbot, history, a=f"解析项目: {txt}", b=f"找不到本地项目或无权访问: {txt}")
        yield from update_ui(chatbot=chatbot, history=history)
        return
    manifest = sorted(
        glob.glob(f"{project_folder}/**/*.txt", recursive=True) + glob.glob(f"{project_folder}/**/*.md", recursive=True)
    )
    if not manifest:
        report_exception(chatbot, history, a=f"解析项目: {txt}", b=f"找不到任何文本文件: {txt}")
        yield from update_ui(chatbot=chatbot, history=history)
        return
    max_token = model_info[llm_kwargs["llm_model"]]["max_token"]
    history = []
    for fp in manifest:
        with open(fp, encoding="utf-8") as f:
            content = f.read()
        fragments = breakdown_text_to_satisfy_token_limit(
            txt=content, limit=max_token * 3 // 8, llm_model=llm_kwargs["llm_model"]
        )
        name = os.path.relpath(fp, project_folder)
        for i, fragment in enumerate(fragments):
            i_say = f"Summarise this part ({i + 1}/{len(fragments)}) of {name} in one sentence:\n\n{fragment}"
            gpt_say = yield from request_gpt_model_in_new_thread_with_ui_alive(
                inputs=i_say,
                inputs_show_user=f"{name} ({i + 1}/{len(fragments)})",
                llm_kwargs=llm_kwargs,
                chatbot=chatbot,
                history=[],
                sys_prompt="You summarise documents.",
            )
            history.extend([f"{name} ({i + 1}/{len(fragments)})", gpt_say])
    res = write_history_to_file(history, file_basename=f"summary-{gen_time_str()}.md")
    promote_file_to_downloadzone(res, chatbot=chatbot)
    chatbot.append(("完成了吗？", res))
    yield from update_ui(chatbot=chatbot, history=history)


@CatchException
def 多模型同时询问(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    """The question to every model of MULTI_QUERY_LLM_MODELS at once."""
    MULTI_QUERY_LLM_MODELS = get_conf("MULTI_QUERY_LLM_MODELS")
    chatbot.append((txt, "正在同时咨询" + MULTI_QUERY_LLM_MODELS))
    yield from update_ui(chatbot=chatbot, history=history)
    llm_kwargs["llm_model"] = MULTI_QUERY_LLM_MODELS
    gpt_say = yield from request_gpt_model_in_new_thread_with_ui_alive(
        inputs=txt,
        inputs_show_user=txt,
        llm_kwargs=llm_kwargs,
        chatbot=chatbot,
        history=history,
        sys_prompt=system_prompt,
        retry_times_at_unknown_error=0,
    )
    history.extend([txt, gpt_say])
    yield from update_ui(chatbot=chatbot, history=history)


@CatchException
def 长文本提问(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    """A text far over the window: clipped with input_clipping first, then asked with and without handle_token_exceed."""
    max_token = model_info[llm_kwargs["llm_model"]]["max_token"]
    count = model_info[llm_kwargs["llm_model"]]["token_cnt"]
    long_text = " ".join(f"Sentence {i} is about the number {i}." for i in range(2000))
    clipped, clipped_history = input_clipping(long_text, ["earlier question", "earlier answer " * 500], max_token // 4)
    chatbot.append(["input_clipping", f"{count(long_text)} -> {count(clipped) + sum(count(h) for h in clipped_history)}"])
    yield from update_ui(chatbot=chatbot, history=history)
    for exceed in (True, False):
        answer = yield from request_gpt_model_in_new_thread_with_ui_alive(
            inputs="What is this text about?\n\n" + long_text,
            inputs_show_user=f"handle_token_exceed={exceed}",
            llm_kwargs=llm_kwargs,
            chatbot=chatbot,
            history=[],
            sys_prompt="",
            handle_token_exceed=exceed,
        )
        history.extend([f"handle_token_exceed={exceed}", answer])
    answers = yield from request_gpt_model_multi_threads_with_very_awesome_ui_and_high_efficiency(
        inputs_array=["Say yes.", "What is this text about?\n\n" + long_text],
        inputs_show_user_array=["short", "long"],
        llm_kwargs=llm_kwargs,
        chatbot=chatbot,
        history_array=[[], []],
        sys_prompt_array=["", ""],
        handle_token_exceed=False,
    )
    history.extend(answers)
    yield from update_ui(chatbot=chatbot, history=history)


@CatchException
def 论文报告(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    """The PDFs handed over: their first page read and asked about; a report and a zip of the log folder."""
    success, file_manifest, project_folder = get_files_from_everything(txt, type=".pdf")
    if not success or not file_manifest:
        report_exception(chatbot, history, a=f"解析项目: {txt}", b=f"找不到任何.pdf文件: {txt}")
        yield from update_ui(chatbot=chatbot, history=history)
        return
    folder = get_log_folder(get_user(chatbot), plugin_name="paper_report")
    lines = []
    for fp in file_manifest:
        text, page_one = read_and_clean_pdf_text(fp)
        yield from update_ui_lastest_msg(f"读取 {os.path.basename(fp)}：{len(text)} 字", chatbot, history)
        answer = yield from request_gpt_model_in_new_thread_with_ui_alive(
            inputs="What is the title of this paper?\n\n" + str(page_one)[:1500],
            inputs_show_user=os.path.basename(fp),
            llm_kwargs=llm_kwargs,
            chatbot=chatbot,
            history=[],
            sys_prompt="",
        )
        lines.append(f"{os.path.basename(fp)}\t{len(text)}\t{answer}")
    report = os.path.join(folder, f"report-{gen_time_str()}.tsv")
    with open(report, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))
    promote_file_to_downloadzone(report, chatbot=chatbot)
    zipped = zip_result(folder)
    promote_file_to_downloadzone(zipped, chatbot=chatbot)
    chatbot.append(["报告", generate_file_link([report, zipped])])
    yield from update_ui(chatbot=chatbot, history=history)


@CatchException
def 按指令处理文件(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    """Dynamic_Function_Generate's way: the instruction is typed, the files are the most recent upload."""
    import time

    recent = chatbot._cookies.get("most_recent_uploaded", None)
    if not recent or time.time() - recent["time"] > 5 * 60:
        chatbot.append([txt, "没有发现任何近期上传的文件。"])
        yield from update_ui(chatbot=chatbot, history=history)
        return
    names = sorted(os.path.relpath(p, recent["path"]) for p in glob.glob(os.path.join(recent["path"], "**/*"), recursive=True))
    chatbot.append([txt, f"指令：{txt}；文件：{', '.join(names)}"])
    yield from update_ui(chatbot=chatbot, history=history)
