"""Fixtures for the mocks' tests: a fresh mocks app per test and its test client."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mocks.app import create_app


@pytest.fixture
def app() -> Flask:
    """A mocks app in testing mode, with its own signing key, codes and back-ends."""
    return create_app({"TESTING": True})


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of `app`."""
    return app.test_client()
