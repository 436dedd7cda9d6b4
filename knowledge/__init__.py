"""知识库: knowledge bases of a user's own papers, searched by keywords and vectors, answered with citations.

From the bottom up: `store` (one SQLite file a base: files, chunks, their keyword index and vectors),
`bases` (whose bases, where, and their names), `readers` (a file as blocks of text that know their page
and section), `chunking`, `indexing` (the job that reads, cuts, embeds and writes, a file at a time),
`retrieval` (keywords and vectors fused), `answering` (a chat model's cited answer) and the command line
(`cli`, as `python -m request_llms kb ...`). The page's plugins are in crazy_functions/knowledge_base.py.
"""
