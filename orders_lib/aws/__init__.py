"""Thin adapters over DynamoDB and SNS, plus the client factory."""
