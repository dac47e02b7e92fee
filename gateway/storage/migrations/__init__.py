"""Alembic migrations of the gateway database (run through gateway.storage.migrate)."""
