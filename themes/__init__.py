"""GPT Academic's `themes` module, as far as its plugins use it: the CSS of the HTML files they write."""
