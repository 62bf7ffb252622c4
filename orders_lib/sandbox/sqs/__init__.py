"""SQS in the sandbox: moto's queues, with a receive that scales and the messages counted."""
