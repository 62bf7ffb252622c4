"""SNS in the sandbox: moto's topics, with the chaos switch for failed publishes."""
