"""The page's words in Chinese and English; one table, looked up by key."""

from __future__ import annotations

from request_llms.text import Text

STRINGS: dict[str, Text] = {
    "title": Text(zh="LocalScholar 本地学术助手", en="LocalScholar: your local academic assistant"),
    "chat": Text(zh="对话", en="Chat"),
    "input": Text(zh="输入", en="Your text"),
    "placeholder": Text(
        zh="输入问题或粘贴文本；Enter 发送，Shift+Enter 换行", en="Ask, or paste text; Enter sends, Shift+Enter starts a new line"
    ),
    "submit": Text(zh="提交", en="Send"),
    "stop": Text(zh="停止", en="Stop"),
    "new_chat": Text(zh="新对话", en="New chat"),
    "retry": Text(zh="重新生成", en="Retry"),
    "model": Text(zh="模型", en="Model"),
    "refresh": Text(zh="刷新模型列表", en="Refresh models"),
    "functions": Text(zh="基础功能", en="Basic functions"),
    "upload": Text(zh="上传文件（插件可读取）", en="Upload files (for plugins)"),
    "settings": Text(zh="参数与系统提示", en="Settings and system prompt"),
    "temperature": Text(zh="温度 temperature", en="Temperature"),
    "top_p": Text(zh="top_p", en="top_p"),
    "max_length": Text(zh="最长回答（token，0 = 服务器默认）", en="Longest answer (tokens, 0 = server default)"),
    "system": Text(zh="系统提示", en="System prompt"),
    "history": Text(zh="历史对话", en="Conversations"),
    "open": Text(zh="选择要打开的对话", en="Pick a conversation to reopen"),
    "delete": Text(zh="删除", en="Delete"),
    "export": Text(zh="导出 Markdown", en="Export Markdown"),
    "compare": Text(zh="多模型对比", en="Compare models"),
    "compare_models": Text(zh="选择 2 到 4 个模型", en="Pick two to four models"),
    "compare_input": Text(zh="同一个问题", en="One question for all"),
    "compare_send": Text(zh="同时询问", en="Ask all"),
    "answering": Text(zh="正在回答……", en="Answering…"),
    "stopped": Text(zh="已停止", en="stopped"),
    "first_token": Text(zh="首字", en="first token"),
    "context": Text(zh="上下文", en="context"),
    "length": Text(zh="长度", en="length"),
    "server": Text(zh="服务", en="server"),
    "after_failed": Text(zh="（此前失败：{servers}）", en="(after {servers} failed)"),
    "need_models": Text(zh="请选择 2 到 4 个模型。", en="Pick two to four models."),
    "uploaded": Text(zh="已保存 {n} 个文件：{names}", en="Saved {n} file(s): {names}"),
    "not_an_upload": Text(
        zh="{name} 不是本次上传的文件，未保存。",
        en="{name} is not a file this upload sent, and was not saved.",
    ),
    "too_big": Text(
        zh="文件 {name} 超过 {limit} MB 的上限，未保存；可在 config_private.py 调大 MAX_UPLOAD_MB。",
        en="{name} is larger than the {limit} MB limit and was not saved; raise MAX_UPLOAD_MB in config_private.py.",
    ),
    "nothing_to_retry": Text(zh="没有可重新生成的问题。", en="Nothing to retry yet."),
    "plugins": Text(zh="学术插件", en="Academic plugins"),
    "plugin_select": Text(zh="选择插件", en="Pick a plugin"),
    "plugin_run": Text(zh="运行插件", en="Run plugin"),
    "plugin_files": Text(zh="交给插件的文件（不选则用最新上传的）", en="Files for the plugin (none picked: the newest upload)"),
    "plugin_outputs": Text(zh="插件输出（点击下载）", en="Plugin output (click to download)"),
    "plugin_takes": Text(zh="读取上传的 {kinds} 文件", en="Reads uploaded {kinds} files"),
    "pick_plugin": Text(zh="请先在插件菜单中选择一个插件。", en="Pick a plugin in the menu first."),
    "plugin_running": Text(zh="插件运行中：{name}", en="Running plugin: {name}"),
    "thinking": Text(zh="思考中…", en="Thinking…"),
    "thought_for": Text(zh="思考", en="thinking"),
    "plugin_done": Text(zh="插件完成：{name}", en="Plugin finished: {name}"),
    "write_first": Text(
        zh="请先在输入框写入文本，再点功能按钮。", en="Put some text in the box first, then press a function button."
    ),
    "language": Text(zh="界面语言", en="Language"),
    "waiting": Text(zh="等待模型回答…", en="Waiting for the model…"),
}


def t(key: str, lang: str, **values) -> str:
    """The text of `key` in `lang` (zh or en), with `values` filled in."""
    text = STRINGS[key].text(lang)
    return text.format(**values) if values else text
