pytest_plugins = ["dojo.plugin"]
