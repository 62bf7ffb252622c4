"""CloudWatch Logs in the sandbox: the functions' log writes under their roles, and moto's fixes."""
