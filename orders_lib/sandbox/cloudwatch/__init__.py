"""CloudWatch in the sandbox: the metric store, embedded metrics, alarm rules and evaluation."""
