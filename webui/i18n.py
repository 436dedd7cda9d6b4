"""The page's words in Chinese and English; one table, looked up by key."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    "title": ("LocalScholar 本地学术助手", "LocalScholar: your local academic assistant"),
    "chat": ("对话", "Chat"),
    "input": ("输入", "Your text"),
    "placeholder": (
        "输入问题或粘贴文本；Enter 发送，Shift+Enter 换行",
        "Ask, or paste text; Enter sends, Shift+Enter starts a new line",
    ),
    "submit": ("提交", "Send"),
    "stop": ("停止", "Stop"),
    "new_chat": ("新对话", "New chat"),
    "retry": ("重新生成", "Retry"),
    "model": ("模型", "Model"),
    "refresh": ("刷新模型列表", "Refresh models"),
    "functions": ("基础功能", "Basic functions"),
    "upload": ("上传文件（插件可读取）", "Upload files (for plugins)"),
    "settings": ("参数与系统提示", "Settings and system prompt"),
    "temperature": ("温度 temperature", "Temperature"),
    "top_p": ("top_p", "top_p"),
    "max_length": ("最长回答（token，0 = 服务器默认）", "Longest answer (tokens, 0 = server default)"),
    "system": ("系统提示", "System prompt"),
    "history": ("历史对话", "Conversations"),
    "open": ("选择要打开的对话", "Pick a conversation to reopen"),
    "delete": ("删除", "Delete"),
    "export": ("导出 Markdown", "Export Markdown"),
    "compare": ("多模型对比", "Compare models"),
    "compare_models": ("选择 2 到 4 个模型", "Pick two to four models"),
    "compare_input": ("同一个问题", "One question for all"),
    "compare_send": ("同时询问", "Ask all"),
    "answering": ("正在回答……", "Answering…"),
    "stopped": ("已停止", "stopped"),
    "first_token": ("首字", "first token"),
    "context": ("上下文", "context"),
    "length": ("长度", "length"),
    "unreachable": ("不可达", "unreachable"),
    "need_models": ("请选择 2 到 4 个模型。", "Pick two to four models."),
    "uploaded": ("已保存 {n} 个文件：{names}", "Saved {n} file(s): {names}"),
    "too_big": (
        "文件 {name} 超过 {limit} MB 的上限，未保存；可在 config_private.py 调大 MAX_UPLOAD_MB。",
        "{name} is larger than the {limit} MB limit and was not saved; raise MAX_UPLOAD_MB in config_private.py.",
    ),
    "nothing_to_retry": ("没有可重新生成的问题。", "Nothing to retry yet."),
    "plugins": ("学术插件", "Academic plugins"),
    "plugin_select": ("选择插件", "Pick a plugin"),
    "plugin_run": ("运行插件", "Run plugin"),
    "plugin_files": ("交给插件的文件（不选则用最新上传的）", "Files for the plugin (none picked: the newest upload)"),
    "plugin_outputs": ("插件输出（点击下载）", "Plugin output (click to download)"),
    "plugin_takes": ("读取上传的 {kinds} 文件", "Reads uploaded {kinds} files"),
    "pick_plugin": ("请先在插件菜单中选择一个插件。", "Pick a plugin in the menu first."),
    "plugin_running": ("插件运行中：{name}", "Running plugin: {name}"),
    "plugin_done": ("插件完成：{name}", "Plugin finished: {name}"),
    "write_first": ("请先在输入框写入文本，再点功能按钮。", "Put some text in the box first, then press a function button."),
}


def t(key: str, lang: str, **values) -> str:
    """The text of `key` in `lang` (zh or en), with `values` filled in."""
    zh, en = STRINGS[key]
    text = zh if lang == "zh" else en
    return text.format(**values) if values else text
