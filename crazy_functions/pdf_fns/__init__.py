"""GPT Academic's PDF helpers (`crazy_functions.pdf_fns`), over LocalScholar's document readers."""
