"""Reading a LaTeX project's prose and writing an academic abstract of it, in the user's language."""

from __future__ import annotations

from toolbox import CatchException, update_ui

from .documents.summarise import Prompts, summarise
from .latex.latex_project import document_title, load_project, plain_text, working_folder
from .runtime.errors import PluginInputError
from .runtime.parallel import failures
from .runtime.registry import Plugin


def prompts(lang: str) -> tuple[Prompts, str]:
    """The note, merge and synthesis prompts, and the system prompt."""
    if lang == "zh":
        return Prompts(
            note=(
                "下面是论文《{title}》正文的第 {i}/{n} 部分（已去掉 LaTeX 命令）。请用中文写 3–6 条要点笔记，"
                "记下这一部分的研究问题、方法、数据、关键结果和结论；只写文中有的内容，不要编造数字。\n\n{text}"
            ),
            merge=(
                "下面是关于论文《{title}》的几组笔记。请把它们合并成一组简洁的中文要点，保留研究问题、方法、"
                "关键结果和结论，去掉重复。\n\n{text}"
            ),
            final=(
                "根据下面关于论文《{title}》的笔记，用中文写一段学术摘要：300–500 字（相当于英文 150–250 词），只有一段，"
                "依次说明研究背景与目的、方法、主要结果和结论。不要标题、不要分点、不要引用文献，"
                "只写笔记中有的内容。只输出摘要本身。\n\n笔记：\n{text}"
            ),
        ), "你是一位严谨的学术写作助手，擅长为论文撰写摘要。"
    return Prompts(
        note=(
            'Here is part {i} of {n} of the text of the paper "{title}" (LaTeX commands removed). Write 3-6 short '
            "bullet-point notes in English on this part's research question, method, data, key results and "
            "conclusions; write only what the text says and invent no numbers.\n\n{text}"
        ),
        merge=(
            'Here are several sets of notes on the paper "{title}". Merge them into one concise set of English '
            "bullet points that keeps the research question, method, key results and conclusions, without "
            "repetition.\n\n{text}"
        ),
        final=(
            'From the notes below on the paper "{title}", write an academic abstract in English: 150-250 words, '
            "one paragraph, giving the background and aim, the method, the main results and the conclusion. No "
            "heading, no bullet points, no citations, nothing the notes do not say. Reply with the abstract only."
            "\n\nNotes:\n{text}"
        ),
    ), "You are a careful academic writing assistant who writes abstracts of papers."


@CatchException
def run(txt, llm_kwargs, plugin_kwargs, chatbot, history, system_prompt, user_request):
    say = chatbot.say
    chatbot.append(
        [say(zh="读 Tex 写摘要", en="Abstract from LaTeX"), say(zh="正在读取 LaTeX 项目……", en="Reading the LaTeX project…")]
    )
    yield from update_ui(chatbot, history)
    with working_folder(chatbot) as folder:
        project = load_project(chatbot, txt, folder)
        text = "\n\n".join(part for part in (plain_text(project.read(rel)) for rel in project.order) if part)
        title = (document_title(project.read(project.main)) if project.main else "") or project.name
    if not text.strip():
        raise PluginInputError(
            en=f"The .tex files of {project.name} hold no prose to summarise: upload the paper's sources.",
            zh=f"{project.name} 的 .tex 文件里没有可以概括的正文：请上传论文的源文件。",
        )
    note_prompts, system = prompts(chatbot.lang)
    summary = yield from summarise(chatbot, history, llm_kwargs, text, title, note_prompts, system)
    if summary.complete:
        content = f"# {title}\n\n{summary.synthesis}\n"
        line = say(zh=f"摘要已写好：{project.name}-abstract.md", en=f"The abstract is written: {project.name}-abstract.md")
    else:
        notes = "\n\n".join(f"## {i + 1}\n\n{note}" for i, note in enumerate(summary.notes))
        heading = say(zh="未完成：以下是已读部分的笔记", en="Unfinished: notes on the parts read so far")
        content = f"# {title}\n\n> {heading}\n\n{notes}\n"
        total, done = len(summary.pieces), len(summary.notes)
        if chatbot.stopped:
            line = say(
                zh=f"已停止：{total} 段中读完 {done} 段，摘要未写；{project.name}-abstract.md 里是这些段落的笔记。",
                en=f"Stopped: {done} of {total} pieces read, no abstract yet; {project.name}-abstract.md holds their notes.",
            )
        else:
            line = say(
                zh=f"有段落失败，摘要未写；{project.name}-abstract.md 里是读完的 {done} 段的笔记。",
                en=f"Some pieces failed, so there is no abstract; {project.name}-abstract.md holds notes on the {done} read.",
            )
            line += "\n" + failures([*summary.pieces, *([summary.final] if summary.final else [])], chatbot.lang)
    chatbot.write_output(f"{project.name}-abstract.md", content)
    chatbot[-1] = [chatbot[-1][0], f"{line}\n\n{summary.synthesis}".strip() if summary.complete else line]
    yield from update_ui(chatbot, history)


PLUGIN = Plugin(
    key="tex_abstract",
    zh="读 Tex 写摘要",
    en="Abstract from LaTeX",
    group="latex",
    about_zh="读取上传的 .tex 文件或 zip 打包的 LaTeX 项目的正文，写一段 150–250 字的学术摘要，保存为 Markdown 文件。",
    about_en="Reads the prose of an uploaded .tex file or zipped LaTeX project and writes a one-paragraph academic "
    "abstract of 150-250 words, saved as a Markdown file.",
    run=run,
    files=(".tex", ".zip"),
)
