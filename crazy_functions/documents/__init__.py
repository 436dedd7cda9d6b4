"""Documents for the paper plugins: PDF text, cutting text to size, summarising and translating it."""
