"""LocalScholar's model layer: parse a model identifier, find its backend and server, stream its answer.

    from request_llms.chat import chat
    for delta in chat("ollama-qwen2.5:7b", "Hello"):
        print(delta, end="")

Layers, from the bottom up (docs/ARCHITECTURE.md has the whole list): the words of a request (`request`,
`model_spec`, `errors`); `retry`, `transport`, `gates` and `servers`; `backends/` and `native/`; `registry`;
routing (`pools`); `listing`, `offered` and `runtime` (one per configuration); `chat`; and the entry points
`api/`, `cli`, `compat` and `bridge_all`.
"""
