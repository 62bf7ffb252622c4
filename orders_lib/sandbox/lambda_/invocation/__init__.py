"""What runs a function: its concurrency and queue (``capacity``), the one way in
(``invoker``), and warm execution environments (``runtime``, ``worker``)."""
