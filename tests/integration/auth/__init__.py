"""Tokens as the mock OAuth server signs them, verified by the gateway."""
