"""A remote image in anything the page shows (an answer, a thought, a compare answer, what a user pasted) is shown
as a link and never fetched: the rewrite on the page's components, and the page's Content-Security-Policy for
whatever the rewrite does not catch, in real Chromium against `python main.py` with a listener as the remote host."""

from __future__ import annotations

import gradio as gr
import httpx
import pytest

from tests.support.canary import Canary
from tests.support.webapp import app_settings, open_page, running_app, send
from webui.images import POLICY, links_for_remote_images, remote_images_as_links


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("see ![pixel](https://t.example/p.gif) here", "see [🖼 pixel](https://t.example/p.gif) here"),
        ('![](//t.example/p.gif "title")', "[🖼 t.example](//t.example/p.gif)"),
        ("![a [b]](<http://t.example/x.png>)", "[🖼 a b](http://t.example/x.png)"),
        ('<IMG alt="chart" SRC="http://t.example/c.png" width=1>', "[🖼 chart](http://t.example/c.png)"),
        ("<img src=https://t.example/c.png>", "[🖼 t.example](https://t.example/c.png)"),
        ("![logo][l]\n\n[l]: https://t.example/l.png", "[🖼 logo][l]\n\n[l]: https://t.example/l.png"),
    ],
)
def test_a_remote_image_becomes_a_link(text, shown):
    assert links_for_remote_images(text) == shown


@pytest.mark.parametrize(
    "text",
    [
        "![plot](data:image/png;base64,iVBORw0KGgo=)",
        "![figure](/gradio_api/file=/data/files/u/x/fig.png)",
        "```markdown\n![pixel](https://t.example/p.gif)\n```",
        "write `![pixel](https://t.example/p.gif)` to embed",
        "```\n<img src=https://t.example/p.gif>",  # a code block still streaming
        "no images [a link](https://t.example) at all",
    ],
)
def test_inline_data_the_pages_own_files_and_code_are_left_as_written(text):
    assert links_for_remote_images(text) == text


def test_the_chat_and_compare_components_show_links():
    pairs = remote_images_as_links(gr.Chatbot()).postprocess(
        [
            {"role": "user", "content": "![u](http://t.example/u.png)"},
            {"role": "assistant", "content": "<img src=http://t.example/a>"},
        ]
    )
    shown = [message.content[0].text for message in pairs.root]
    assert shown == ["[🖼 u](http://t.example/u.png)", "[🖼 t.example](http://t.example/a)"]
    assert (
        remote_images_as_links(gr.Markdown()).postprocess("**m**\n\n![x](https://t.example/x.png)")
        == "**m**\n\n[🖼 x](https://t.example/x.png)"
    )


@pytest.mark.servers
def test_the_page_never_fetches_a_remote_image(tmp_path, context, llama_server, ollama_server):
    host = Canary()
    remote = f"http://127.0.0.1:{host.port}"
    with running_app(tmp_path, app_settings(llama_server, ollama_server)) as app:
        assert httpx.get(app.url).headers["content-security-policy"] == POLICY
        page = open_page(context, app.url)
        send(page, f'look ![pixel]({remote}/md.gif) and <img alt="tag" src="{remote}/tag.gif">')
        page.wait_for_function("() => [...document.querySelectorAll('#chatbot a')].some(a => a.innerText.includes('🖼 tag'))")
        page.evaluate(f"() => {{ const img = new Image(); img.src = '{remote}/script.gif'; document.body.append(img); }}")
        page.wait_for_timeout(1500)  # room for a fetch the policy should have refused
        host.close()
    assert host.received == []
