"""LocalScholar's model layer: parse a model identifier, find its backend, stream its answer.

    from request_llms.chat import chat
    for delta in chat("ollama-qwen2.5:7b", "Hello"):
        print(delta, end="")

Layers, from the outside in: `cli` and GPT Academic's `bridge_all`/`compat`; `chat` (messages, limits,
tokens); `registry` (kind -> backend, discovery, the trust check); `backends/` (Ollama, local OpenAI-compatible
servers, cloud vendors) and `native/` (models run in worker processes); `transport` (HTTP, retries, cancel).
"""
