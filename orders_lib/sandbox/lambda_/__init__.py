"""AWS Lambda in the sandbox: ``invocation`` runs functions (concurrency, the queue, warm
workers); ``event_source_mapping`` feeds them from DynamoDB streams (polling, filtering,
retries, bisection, on-failure destinations). The trailing underscore keeps ``lambda`` free."""
