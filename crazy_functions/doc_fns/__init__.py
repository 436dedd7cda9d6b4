"""GPT Academic's document writers (`crazy_functions.doc_fns`)."""
