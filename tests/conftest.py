pytest_plugins = ["tests.servers.fixtures", "tests.plugin_support", "tests.webapp"]
