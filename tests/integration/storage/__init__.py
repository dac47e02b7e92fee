"""Integration tests of the store: the SQL store on SQLite and PostgreSQL, and FakeStore held to its answers."""
