"""Test configuration shared by every suite.

Fixtures that start real services live in ``tests/fixtures/`` and start lazily: a test that asks
for none of them starts nothing. See ``tests/README.md``.
"""

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.kafka",
    "tests.fixtures.sqs",
]
