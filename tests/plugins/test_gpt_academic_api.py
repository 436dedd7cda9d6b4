"""GPT Academic's plugin API with its meanings: folders per user, clipping, splitting, plugin classes, and a
GPT Academic checkout's plugin folder named in CUSTOM_PLUGINS. No server is needed."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from crazy_functions.crazy_utils import get_files_from_everything, get_plugin_arg, input_clipping, try_install_deps
from crazy_functions.pdf_fns.breakdown_txt import breakdown_text_to_satisfy_token_limit
from crazy_functions.runtime.registry import plugin_named
from crazy_functions.runtime.session import PluginChatbot, stepped
from request_llms.config_loader import get_config, load_config
from request_llms.errors import ModelNotAllowed
from request_llms.messages import estimate_tokens
from tests.support.plugin_support import drive
from toolbox import (
    disable_auto_promotion,
    gen_time_str,
    get_conf,
    get_log_folder,
    get_user,
    is_the_upload_folder,
    promote_file_to_downloadzone,
    select_api_key,
    write_history_to_file,
    zip_result,
)

TEXT = "\n\n".join(f"Paragraph {i}. " + "The quick brown fox jumps over the lazy dog. " * (i % 7 + 1) for i in range(60))


@pytest.fixture
def settings(tmp_path, monkeypatch):
    def configure(**values) -> object:
        private = tmp_path / "config_private.py"
        lines = [f'DATA_DIR = "{tmp_path / "data"}"'] + [f"{key} = {value!r}" for key, value in values.items()]
        private.write_text("\n".join(lines) + "\n", encoding="utf-8")
        monkeypatch.setenv("LOCALSCHOLAR_CONFIG", str(private))
        get_config.cache_clear()
        return get_config()

    yield configure
    get_config.cache_clear()


def test_helpers_without_a_user_write_into_the_folders_of_the_user_whose_run_is_going_on(settings, tmp_path):
    settings()
    found = {}

    def plugin(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
        report = write_history_to_file(["question", "answer"], file_basename=f"r-{gen_time_str()}.md")
        found["report"], found["log"] = report, get_log_folder(get_user(chatbot), plugin_name="mine")
        found["zip"] = zip_result(found["log"])
        found["offered"] = promote_file_to_downloadzone(report, chatbot=chatbot)
        yield chatbot, history, "ok"

    alice = PluginChatbot(out_dir=tmp_path / "out-a", user="user:alice")
    assert alice.get_user() == get_user(alice) == "user:alice"
    list(stepped(plugin("", {}, {}, alice, [], "", None), alice))
    users = tmp_path / "data" / "users"
    assert Path(found["report"]).is_relative_to(users) and Path(found["log"]).is_relative_to(users)
    assert Path(found["report"]).parent.parent == Path(found["log"]).parent  # the same user's logs
    assert Path(found["report"]).read_text(encoding="utf-8").splitlines()[1] == "## question"
    assert Path(found["zip"]).exists() and Path(found["zip"]).is_relative_to(users)
    assert Path(found["offered"]).parent == tmp_path / "out-a" and alice.outputs == [Path(found["offered"])]
    assert alice.get_cookies()["files_to_promote"] == [found["offered"]]
    disable_auto_promotion(alice)
    assert alice.outputs == [] and alice.get_cookies()["files_to_promote"] == []

    bob = PluginChatbot(out_dir=tmp_path / "out-b", user="user:bob")
    list(stepped(plugin("", {}, {}, bob, [], "", None), bob))
    assert Path(found["log"]).parent != Path(get_log_folder("user:alice", plugin_name="mine")).parent
    assert not is_the_upload_folder(found["log"]) and not is_the_upload_folder("/etc")


def test_input_clipping_cuts_the_longest_text_first_and_keeps_a_short_input_whole():
    history = ["short question", "a long answer " * 400, "another question", "x" * 90]
    inputs = "Summarise the conversation."
    clipped, kept, flags = input_clipping(inputs, history, 300, return_clip_flags=True)
    assert clipped == inputs and flags["mode"] == "only-history"
    assert sum(estimate_tokens(h) for h in kept) + len(kept) - 1 <= 300 - estimate_tokens(inputs)
    assert kept[0] == "short question" and len(kept[1]) < len(history[1])
    long_input = "words " * 2000
    clipped, kept = input_clipping(long_input, ["tiny"], 500)
    assert flags["original_full_token_num"] > 300 and estimate_tokens(clipped) + estimate_tokens(kept[0]) <= 500
    assert long_input.startswith(clipped)


def test_breakdown_txt_cuts_at_paragraphs_within_the_limit_and_loses_nothing(settings):
    settings()
    pieces = breakdown_text_to_satisfy_token_limit(TEXT, 200, llm_model="a-model-not-configured")
    assert len(pieces) > 3 and all(estimate_tokens(piece) <= 200 for piece in pieces)
    assert "".join(pieces).split() == TEXT.split()
    assert all(piece.rstrip().endswith(".") for piece in pieces)  # whole sentences


def test_the_other_helpers_answer_as_gpt_academics_do(settings, tmp_path):
    config = settings(MULTI_QUERY_LLM_MODELS="ollama-a&ollama-b", GROBID_URLS=[], proxies={"https": "http://127.0.0.1:1"})
    assert get_conf("MULTI_QUERY_LLM_MODELS") == "ollama-a&ollama-b" and get_conf("DEFAULT_WORKER_NUM") == 8
    assert config["proxies"] == {"https": "http://127.0.0.1:1"} and get_conf("ARXIV_CACHE_DIR")
    kwargs = {"empty": "", "set": "x"}
    assert get_plugin_arg(kwargs, "empty", "d") == "d" and get_plugin_arg(kwargs, "set", "d") == "x" and "empty" not in kwargs
    with pytest.raises(RuntimeError, match="No API key for gpt-4o"):
        select_api_key("", "gpt-4o")
    with pytest.raises(ModuleNotFoundError, match="pip install zhipuai"):
        try_install_deps(["zhipuai"])
    with pytest.raises(ConnectionRefusedError, match="not fetched"):
        get_files_from_everything("https://arxiv.org/pdf/1706.03762", type=".pdf")
    (tmp_path / "p" / "sub").mkdir(parents=True)
    (tmp_path / "p" / "sub" / "a.md").write_text("# a", encoding="utf-8")
    assert get_files_from_everything(str(tmp_path / "p"), type=".md") == (
        True,
        [str(tmp_path / "p/sub/a.md")],
        str(tmp_path / "p"),
    )
    assert get_files_from_everything(str(tmp_path / "p"), type=".pdf") == (False, [], str(tmp_path / "p"))


CHECKOUT_PLUGIN = """
from toolbox import CatchException, update_ui
from crazy_functions.crazy_utils import get_plugin_arg
from crazy_functions.plugin_template.plugin_class_template import GptAcademicPluginTemplate, ArgProperty
from crazy_functions.Sibling_Helpers import shout
from shared_utils.colorful import sprint亮黄
import crazy_functions.crazy_utils as utils


@CatchException
def 工具(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    chatbot.append([txt, shout(get_plugin_arg(plugin_kwargs, "advanced_arg", "none")) + " " + utils.__file__])
    yield from update_ui(chatbot=chatbot, history=history)


class 工具_Wrap(GptAcademicPluginTemplate):
    def define_arg_selection_menu(self):
        return {
            "main_input": ArgProperty(title="输入", description="", default_value="", type="string").model_dump_json(),
            "file_name": ArgProperty(title="文件名", description="", default_value="report", type="string").model_dump_json(),
        }

    def execute(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
        chatbot.append([plugin_kwargs["main_input"], "file_name=" + plugin_kwargs["file_name"] + " " + sprint亮黄("x")])
        yield from update_ui(chatbot=chatbot, history=history)
"""


def test_a_checkouts_plugins_load_from_its_folder_with_its_own_modules_and_ours_first(tmp_path, monkeypatch):
    checkout = tmp_path / "gpt_academic"
    (checkout / "crazy_functions").mkdir(parents=True)
    (checkout / "crazy_functions" / "My_Tool.py").write_text(CHECKOUT_PLUGIN, encoding="utf-8")
    (checkout / "crazy_functions" / "Sibling_Helpers.py").write_text("def shout(s):\n    return s.upper()\n", encoding="utf-8")
    (checkout / "crazy_functions" / "crazy_utils.py").write_text(
        "raise ImportError('the checkout’s own copy')\n", encoding="utf-8"
    )
    private = tmp_path / "config_private.py"
    private.write_text(
        f'GPT_ACADEMIC_FOLDER = "{checkout}"\n'
        'CUSTOM_PLUGINS = {"工具": "crazy_functions.My_Tool:工具", "类": "crazy_functions.My_Tool:工具_Wrap"}\n',
        encoding="utf-8",
    )
    config = load_config(private=private, environ={})
    tool, wrapped = plugin_named("custom-0", config), plugin_named("custom-1", config)
    chatbot = PluginChatbot(out_dir=tmp_path / "out", config=config)
    drive(tool.run, "hi", {"llm_model": "x"}, chatbot, {"advanced_arg": "loud"})
    answer = chatbot[-1][1]
    assert answer.startswith("LOUD ") and answer.endswith(str(Path("crazy_functions/crazy_utils.py").resolve()))
    assert [(f.key, f.zh, f.default) for f in wrapped.fields] == [("file_name", "文件名", "report")]
    chatbot = PluginChatbot(out_dir=tmp_path / "out", config=config)
    drive(wrapped.run, "go", {"llm_model": "x"}, chatbot, {})
    assert chatbot[-1] == ["go", "file_name=report \033[1;33mx\033[0m"]


def test_a_missing_checkout_folder_is_a_configuration_error(tmp_path):
    private = tmp_path / "config_private.py"
    private.write_text(f'GPT_ACADEMIC_FOLDER = "{tmp_path / "nowhere"}"\n', encoding="utf-8")
    with pytest.raises(Exception, match="GPT_ACADEMIC_FOLDER"):
        load_config(private=private, environ={})


def test_a_zip_handed_over_is_unpacked_where_the_plugin_looks(tmp_path):
    from crazy_functions.runtime.files import hand_over

    archive = tmp_path / "home" / "uploads" / "proj.zip"
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr("a/b.md", "# b")
    folder = hand_over("", tmp_path / "home", [archive], tmp_path / "home" / "runs" / "r")
    assert get_files_from_everything(folder, type=".md")[1] == [str(Path(folder) / "proj.zip.extract" / "a" / "b.md")]


def test_a_projects_file_tree_and_a_conversations_documents(tmp_path):
    from crazy_functions.diagram_fns.file_tree import FileNode, build_file_tree_mermaid_diagram
    from crazy_functions.doc_fns.conversation_doc.excel_doc import tables_in
    from crazy_functions.doc_fns.conversation_doc.html_doc import HtmlFormatter
    from crazy_functions.doc_fns.conversation_doc.markdown_doc import MarkdownFormatter
    from crazy_functions.doc_fns.conversation_doc.txt_doc import TxtFormatter
    from crazy_functions.doc_fns.conversation_doc.word_doc import WordFormatter

    diagram = build_file_tree_mermaid_diagram(
        ["main.py", "pkg/util.py", "pkg/io.py"], ["entry", "helpers", 'reads "files"'], "项目"
    )
    assert diagram.strip().startswith("```mermaid") and diagram.strip().endswith("```")
    assert 'R01[["📁pkg"]] --> R010["🗎util.py"]' in diagram and '["🗎main.py"] -.-x CR00["`entry`"]:::Comment' in diagram
    assert '"files"' not in diagram  # quotes would break the label
    tree = FileNode("root", build_manifest=True)
    tree.add_file("a/b/c.py", "x")
    assert tree.manifest["a/b/c.py"].name == "c.py" and tree.manifest["a/b/c.py"].level == 3

    history = ["What is 2+2?", "| a | b |\n|---|---|\n| 1 | 2 |\n\n**4**", "<script>x</script>", "ok"]
    markdown = MarkdownFormatter().create_document(history)
    assert "## 问题 Question 1\n\nWhat is 2+2?" in markdown and "## 问题 Question 2" in markdown
    assert TxtFormatter().create_document(history).count("回答 Answer:") == 2
    page = HtmlFormatter([["What is 2+2?", "**4**"], ["<script>x</script>", "ok"]], history).create_document()
    assert "<strong>4</strong>" in page and "<script>" not in page
    WordFormatter().create_document(history).save(tmp_path / "c.docx")
    assert (tmp_path / "c.docx").stat().st_size > 1000
    assert tables_in(history[1]) == [[["a", "b"], ["1", "2"]]]


def test_a_module_a_plugin_lacks_says_what_to_do(tmp_path):
    from toolbox import error_line

    ours = ModuleNotFoundError("No module named 'crazy_functions.agent_fns'", name="crazy_functions.agent_fns")
    theirs = ModuleNotFoundError("No module named 'aiofiles.os'", name="aiofiles.os")
    assert "GPT_ACADEMIC_FOLDER" in error_line(ours, "en") and "GPT_ACADEMIC_FOLDER" in error_line(ours, "zh")
    assert "pip install aiofiles" in error_line(theirs, "en") and "pip install aiofiles" in error_line(theirs, "zh")


def test_state_that_refers_to_the_chatbot_pickles_and_outputs_stay_in_their_folder(tmp_path):
    import pickle

    from crazy_functions.multi_stage.multi_stage_utils import GptAcademicState

    chatbot = PluginChatbot([["q", "a"]], out_dir=tmp_path / "out", user="user:alice")
    state = GptAcademicState.get_state(chatbot)
    state.set_state(chatbot, "step", 2)
    again = GptAcademicState.get_state(chatbot)
    assert again.step == 2 and pickle.loads(pickle.dumps(chatbot)) == [["q", "a"]]
    (tmp_path / "r.md").write_text("r", encoding="utf-8")
    for name in ("../../escape.md", "/etc/escape.md", "..\\escape.md"):
        offered = promote_file_to_downloadzone(str(tmp_path / "r.md"), rename_file=name, chatbot=chatbot)
        assert Path(offered).parent == tmp_path / "out", offered


def test_proxies_are_set_while_any_block_is_inside_and_restored_after_the_last(settings, monkeypatch):
    from toolbox import ProxyNetworkActivate

    monkeypatch.delenv("HTTPS_PROXY", raising=False)
    settings(USE_PROXY=True, proxies={"https": "http://127.0.0.1:7890"})
    first, second = ProxyNetworkActivate(), ProxyNetworkActivate()
    first.__enter__()
    second.__enter__()
    first.__exit__(None, None, None)
    import os

    assert os.environ["HTTPS_PROXY"] == "http://127.0.0.1:7890"  # the second block still needs it
    second.__exit__(None, None, None)
    assert "HTTPS_PROXY" not in os.environ
    settings(USE_PROXY=False, proxies={"https": "http://127.0.0.1:7890"})
    assert get_conf("proxies") is None  # as GPT Academic: no proxy unless USE_PROXY


def test_a_traceback_reaches_the_chat_as_one_line():
    from toolbox import trimmed_format_exc

    try:
        {}["missing"]
    except KeyError:
        line = trimmed_format_exc()
    assert line == "KeyError: 'missing'"


def test_model_info_refuses_what_the_page_would_without_asking_any_server(settings):
    from request_llms.bridge_all import model_info
    from request_llms.runtime import runtime_of

    config = settings(AVAIL_LLM_MODELS=["ollama-a"], DISCOVER_LOCAL_MODELS=False)
    runtime_of(config).open_to_users()  # as the page does when it starts
    assert "openai-compat-x(base_url=http://127.0.0.1:9/v1)" not in model_info
    with pytest.raises(KeyError):
        model_info["ollama-a(base_url=http://127.0.0.1:9)"]


def test_a_cloud_name_gpt_academic_counts_with_counts_and_refuses_requests_where_it_is_not_offered(settings):
    from request_llms.bridge_all import EstimateTokenizer, model_info
    from request_llms.compat import predict_no_ui_long_connection
    from request_llms.runtime import runtime_of

    config = settings(AVAIL_LLM_MODELS=["ollama-a"], DISCOVER_LOCAL_MODELS=False)
    runtime_of(config).open_to_users()
    enc = model_info["gpt-3.5-turbo"]["tokenizer"]  # as GPT Academic's Markdown and LaTeX plugins count
    text = "Glaciers retreat 冰川退缩 " * 50
    assert isinstance(enc, EstimateTokenizer) and len(enc.encode(text, disallowed_special=())) >= len(text) // 4
    assert enc.decode(enc.encode(text)[:10]) == text[: len(enc.decode(enc.encode(text)[:10]))]
    assert model_info["gpt-4"]["max_token"] == 8192 and model_info["gpt-3.5-turbo"]["token_cnt"](text) > 0
    for call in (model_info["gpt-4"]["fn_without_ui"], model_info["gpt-4"]["fn_with_ui"]):
        with pytest.raises(ModelNotAllowed) as refused:
            call("hi", {"llm_model": "gpt-4"}, [], "")
        assert "AVAIL_LLM_MODELS" in refused.value.en and "AVAIL_LLM_MODELS" in refused.value.zh
    with pytest.raises(ModelNotAllowed):
        predict_no_ui_long_connection("hi", {"llm_model": "gpt-3.5-turbo"}, [], "")
    with pytest.raises(KeyError):
        model_info["gpt-9-made-up"]


def test_every_field_of_a_plugin_class_reaches_it_and_advanced_arg_is_its_own():
    from crazy_functions.runtime.registry import Field, Plugin
    from webui.plugin_page import plugin_arguments

    fields = tuple(Field(key, key, key, f"d-{key}") for key in ("advanced_arg", "a", "b", "c"))
    plugin = Plugin("custom-0", "p", "p", "custom", "", "", lambda *a: iter(()), fields=fields)
    assert plugin_arguments(plugin, ["", "x", None]) == {"a": "x", "c": "d-c"}
    plain = Plugin("custom-1", "p", "p", "custom", "", "", lambda *a: iter(()))
    assert plugin_arguments(plain, [" models ", None, None]) == {"advanced_arg": "models"}


def test_a_helpers_refusal_is_in_the_runs_language(tmp_path):
    said = {}

    def plugin(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
        for name, call in (("key", lambda: select_api_key("", "gpt-4o")), ("deps", lambda: try_install_deps(["zhipuai"]))):
            try:
                call()
            except Exception as exc:
                said[name] = str(exc)
        yield chatbot, history, "ok"

    for lang, words, other in (("en", "No API key", "api-key"), ("zh", "api-key", "No API key")):
        chatbot = PluginChatbot(out_dir=tmp_path / "out", lang=lang)
        list(stepped(plugin("", {}, {}, chatbot, [], "", None), chatbot))
        assert words in said["key"] and other not in said["key"], said
        assert "pip install zhipuai" in said["deps"] and " / " not in said["deps"], said


def test_markdown_for_word_keeps_headings_and_code_and_drops_emphasis():
    from crazy_functions.doc_fns.conversation_doc.word_doc import convert_markdown_to_word

    text = convert_markdown_to_word(
        '## Results ##\r\nThe **yield** rose to *83* percent ([table](http://x.org/t "T")), ![fig](a.png).\n'
        "- snake_case_name stays\n* __bold__ and `a*b*c`\n```python\nx = a*b*c  # **kept**\n```\n"
    )
    assert text.splitlines() == [
        "## Results",
        "The yield rose to 83 percent (table (http://x.org/t)), [图片：fig].",
        "• snake_case_name stays",
        "• bold and [代码]a*b*c[/代码]",
        "[代码块]",
        "x = a*b*c  # **kept**",
        "[/代码块]",
    ]
