"""What the tests share besides fixtures: test data, builders, fakes and helpers.

Test modules and conftest files import from here alone, never from one another (fixtures stay in conftest files).
"""
