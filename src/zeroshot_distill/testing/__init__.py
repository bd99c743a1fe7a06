"""Test doubles that the tests, the benchmarks and users' own smoke tests share.

Nothing in the product imports this package. ``testing.stub_server`` is a local
OpenAI-compatible server with fault injection (``python -m zeroshot_distill.testing.stub_server``
serves one until stopped).
"""
