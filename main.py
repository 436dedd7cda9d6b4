"""Starts LocalScholar's web page: `python main.py [--host H] [--port P] [--open]`."""

from __future__ import annotations

import argparse
import os
import sys

from request_llms.api.access import LOOPBACK
from request_llms.config_loader import ROOT, get_config
from request_llms.errors import LLMError
from request_llms.text import language


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="LocalScholar 本地学术助手: the web page.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=None, help="port (default WEB_PORT)")
    browser = parser.add_mutually_exclusive_group()
    browser.add_argument("--open", action="store_true", default=None, help="open the page in a browser (AUTO_OPEN_BROWSER)")
    browser.add_argument("--no-browser", dest="open", action="store_false", help="do not open a browser")
    args = parser.parse_args(argv)
    try:
        config = get_config()
    except LLMError as exc:
        print(exc.text(language()), file=sys.stderr)
        return exc.exit_code
    for warning in config.warnings:
        print(warning.text(config.lang), file=sys.stderr)
    if args.host not in LOOPBACK and not config["AUTHENTICATION"]:
        print(
            f"Warning: the page is open to every machine that can reach {args.host}, with no sign-in; set AUTHENTICATION.\n"
            f"警告：页面对所有能访问 {args.host} 的机器开放且无需登录；请设置 AUTHENTICATION。",
            file=sys.stderr,
        )
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from userfiles import data_dir
    from webui.owners import OwnerGate, files_root

    files_root(config).mkdir(parents=True, exist_ok=True)
    os.environ["GRADIO_TEMP_DIR"] = str(files_root(config))  # uploads and downloads stay in DATA_DIR
    from starlette.middleware import Middleware

    from request_llms.api import mount
    from request_llms.api.access import refusal
    from request_llms.text import Text
    from webui.app import CSS, HEAD, build_app
    from webui.images import ImagePolicy

    app = build_app(config)
    data = data_dir(config)
    auth = [tuple(pair) for pair in config["AUTHENTICATION"]] or None
    port = args.port or config["WEB_PORT"]
    try:
        app.queue(default_concurrency_limit=None).launch(
            prevent_thread_lock=True,
            quiet=True,
            server_name=args.host,
            server_port=port,
            auth=auth,
            auth_message="LocalScholar 本地学术助手：请登录 / please sign in",
            inbrowser=config["AUTO_OPEN_BROWSER"] if args.open is None else args.open,
            max_threads=200,
            max_file_size=f"{config['MAX_UPLOAD_MB']}mb",
            blocked_paths=[
                str(data / "users"),
                str(data / "conversations.sqlite3"),
                str(data / "page.secret"),
                str(ROOT / "config_private.py"),
            ],  # fmt: skip
            app_kwargs={"middleware": [Middleware(OwnerGate, config=config), Middleware(ImagePolicy)]},
            footer_links=["settings"],
            css=CSS,
            head=HEAD,
        )
    except OSError:
        print(
            f"Cannot listen on {args.host}:{port}: another program uses the port; try --port {port + 1}.\n"
            f"无法在 {args.host}:{port} 上监听：端口已被占用，可改用 --port {port + 1}。",
            file=sys.stderr,
        )
        return 3
    print(f"LocalScholar 本地学术助手: {app.local_url}", flush=True)
    api_refused = refusal(args.host, config)
    if api_refused is None:
        mount(app.app, config)
        print(f"OpenAI-compatible API / 兼容 OpenAI 的 API: {app.local_url.rstrip('/')}/v1", flush=True)
    else:
        print(Text(en="The API is off. ", zh="API 未开启。").text(config.lang) + api_refused.text(config.lang), file=sys.stderr)
    try:
        app.block_thread()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
