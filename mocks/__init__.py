"""Independent mock back-ends for QA: the fund's registry, the insurers and an ESIA-style OAuth server.

The mocks share nothing with `gateway/` or `adapters/` except the files in `contracts/`.
"""
