"""Starts LocalScholar's web page: `python main.py [--host H] [--port P] [--open]`."""

from __future__ import annotations

import argparse
import os
import sys

from request_llms.config_loader import load_config
from request_llms.errors import LLMError

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="LocalScholar 本地学术助手: the web page.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    parser.add_argument("--port", type=int, default=None, help="port (default WEB_PORT)")
    parser.add_argument("--open", action="store_true", help="open the page in a browser")
    args = parser.parse_args(argv)
    try:
        config = load_config()
    except LLMError as exc:
        print(exc.text("zh" if os.environ.get("LANG", "").startswith("zh") else "en"), file=sys.stderr)
        return exc.exit_code
    for en, zh in config.warnings:
        print(zh if config.lang == "zh" else en, file=sys.stderr)
    if args.host not in LOOPBACK and not config["AUTHENTICATION"]:
        print(
            f"Warning: the page is open to every machine that can reach {args.host}, with no sign-in; set AUTHENTICATION.\n"
            f"警告：页面对所有能访问 {args.host} 的机器开放且无需登录；请设置 AUTHENTICATION。",
            file=sys.stderr,
        )
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    from webui.app import build_app

    app = build_app(config)
    auth = [tuple(pair) for pair in config["AUTHENTICATION"]] or None
    app.queue().launch(server_name=args.host, server_port=args.port or config["WEB_PORT"], auth=auth, inbrowser=args.open)
    return 0


if __name__ == "__main__":
    sys.exit(main())
