"""What feeds a function from a DynamoDB stream, as Lambda's event source mapping does it."""
