"""Integration tests of the SOAP adapters against the mocks over real sockets."""
