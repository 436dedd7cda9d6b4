"""The academic plugins and their engines, on real documents and real servers."""
