"""Platform adapters: thin translators between each chat platform and the core."""
