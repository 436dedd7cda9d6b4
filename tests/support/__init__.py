"""What the tests share: configurations, the real servers they start, tiny native models, a deliberately broken server, the page driver."""
