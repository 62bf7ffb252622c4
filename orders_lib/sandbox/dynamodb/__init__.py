"""DynamoDB in the sandbox, where moto needs help: stream records in Lambda's shape, and TTL."""
