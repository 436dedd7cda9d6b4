"""The web page: its handlers, the store, trust from the outside, and the real page in Chromium."""
