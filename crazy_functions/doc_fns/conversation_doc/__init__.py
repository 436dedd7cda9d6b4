"""A conversation (GPT Academic's flat history: question, answer, ...) written as a document."""
