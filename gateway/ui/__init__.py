"""Pages for people, next to the REST API: the interactive API documentation."""
