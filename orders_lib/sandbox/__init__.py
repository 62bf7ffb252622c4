"""Local sandbox: AWS APIs from moto on 127.0.0.1, plus a Lambda runtime and
DynamoDB-stream event source mappings that behave as AWS documents them.

What AWS does lives in ``runtime`` (functions in warm worker processes),
``event_source`` (polling, batching, filtering, retries, bisection, partial
batch responses, on-failure records) and ``filtering``; how we host it lives in
``server`` (the process), ``moto_hooks`` (where moto is extended) and
``control`` (start/stop from the command line). Nothing here is imported by the
Lambda handlers.
"""
