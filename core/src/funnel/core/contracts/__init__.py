"""Message contracts between the hops of the data plane: SQS messages, Kafka events, topics.

Plain Pydantic and the standard library only: the receiver imports these and must stay free of
database code.
"""
