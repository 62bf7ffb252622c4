"""Use cases: create an order, process a batch of stream records."""
