"""The network guard: a test that did not opt in cannot connect, even to a server listening on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import psycopg
import pytest
import requests

from tests.support.network import NetworkBlocked


@pytest.fixture
def listener() -> Iterator[tuple[str, int]]:
    """A socket listening on loopback: binding and listening are no connection, so any test may do it."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        yield server.getsockname()


def test_a_test_without_the_marker_cannot_connect_to_a_listening_server(listener: tuple[str, int]) -> None:
    with pytest.raises(NetworkBlocked, match=r"test_network_guard\.py::.* connected to .* @pytest\.mark\.network"):
        socket.create_connection(listener, timeout=1)


def test_an_http_client_meets_the_guard_itself_not_a_connection_error_it_might_retry(
    listener: tuple[str, int],
) -> None:
    host, port = listener
    with pytest.raises(NetworkBlocked, match="without opting in to the network"):
        requests.get(f"http://{host}:{port}/", timeout=1)


def test_connect_ex_is_guarded_too(listener: tuple[str, int]) -> None:
    with socket.socket() as client, pytest.raises(NetworkBlocked):
        client.connect_ex(listener)


def test_postgresql_is_guarded_though_libpq_connects_in_c() -> None:
    with pytest.raises(NetworkBlocked, match="without opting in"):
        psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=1)


def test_unix_sockets_stay_free() -> None:
    left, right = socket.socketpair()
    with left, right:
        left.sendall(b"ping")
        assert right.recv(4) == b"ping"


@pytest.mark.network
def test_a_test_with_the_marker_connects(listener: tuple[str, int]) -> None:
    with socket.create_connection(listener, timeout=1) as client:
        assert client.getpeername() == listener
