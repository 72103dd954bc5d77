"""Discussion protocols as data: the built-in library, its schema, and the pure engine."""
