"""A plugin written for GPT Academic, with its imports and helpers, used to check that such plugins run here."""

import threading
import time

from crazy_functions.crazy_utils import request_gpt_model_multi_threads_with_very_awesome_ui_and_high_efficiency
from request_llms.bridge_all import predict_no_ui_long_connection
from toolbox import CatchException, update_ui


@CatchException
def 批量提问(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    questions = [line for line in txt.splitlines() if line.strip()]
    chatbot.append(["批量提问", "开始"])
    yield from update_ui(chatbot=chatbot, history=history)
    collection = yield from request_gpt_model_multi_threads_with_very_awesome_ui_and_high_efficiency(
        inputs_array=questions,
        inputs_show_user_array=questions,
        llm_kwargs=llm_kwargs,
        chatbot=chatbot,
        history_array=[[] for _ in questions],
        sys_prompt_array=[system_prompt for _ in questions],
    )
    window = ["", time.time(), ""]
    result = {}
    worker = threading.Thread(
        target=lambda: result.setdefault("text", predict_no_ui_long_connection(questions[0], llm_kwargs, [], "", window))
    )
    worker.start()
    while worker.is_alive():
        window[1] = time.time()
        chatbot[-1] = ["observe", window[0]]
        yield from update_ui(chatbot=chatbot, history=history)
        time.sleep(0.02)
    worker.join()
    history.extend(collection)
    chatbot.append(["完成", f"{len(collection) // 2} 个回答"])
    yield from update_ui(chatbot=chatbot, history=history)


@CatchException
def 出错的插件(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    chatbot.append([txt, "working"])
    yield from update_ui(chatbot=chatbot, history=history)
    raise ValueError("a bug in the plugin")
