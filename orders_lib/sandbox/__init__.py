"""Local sandbox: AWS APIs from moto on 127.0.0.1, plus what moto does not do (a Lambda
runtime, stream event source mappings, IAM, CloudWatch metrics and alarms, TTL), as AWS
documents it. One package per AWS service; each holds the rules (pure, unit-tested) and its
``moto_patches`` (the one place it changes moto):

* ``lambda_/invocation``: concurrency and throttles (``capacity``), the one way in
  (``invoker``), warm workers (``runtime``, ``worker``);
* ``lambda_/event_source_mapping``: polling a shard and batching (``shard_poller``), which
  concurrent batch an item's records travel in under ``ParallelizationFactor`` (``lanes``), what an
  invocation's result means: checkpoint, retry, bisection, discard (``retries``),
  ``filtering``, on-failure ``destinations``, which pollers run (``supervisor``);
* ``dynamodb``: stream records in Lambda's shape (``streams``), ``ttl``;
* ``cloudwatch``: the ``metric_store``, embedded metrics (``emf``), an alarm's state
  (``alarm_rules``), evaluation and history (``service``);
* ``logs``, ``sns``, ``sqs``, ``ssm``: the functions' log writes, the chaos switch, queue
  fixes, the public parameters every account can read (Powertools' layer);
* ``cloudformation``: deploying the CDK stack (``deploy``, ``stack``) and moto's fixes;
* ``iam``: which action on which resource, policy evaluation, enforcement;
* ``http``: the listeners before moto's WSGI app, and the ``/_sandbox/`` control API;
* ``persistence``: moto's state as one pickle (``moto_state``) in a file that is replaced
  atomically and checked before it is loaded (``snapshot_file``).

``server`` assembles the parts (nothing imports it back); ``control`` starts and stops the
process from the command line. Nothing here is imported by the Lambda handlers.
"""
