"""LaTeX projects for the LaTeX plugins: loading and protecting the markup, rewriting the prose, the diff page."""
