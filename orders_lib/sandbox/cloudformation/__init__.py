"""CloudFormation in the sandbox: deploying the CDK stack, bootstrapping, and moto's fixes."""
