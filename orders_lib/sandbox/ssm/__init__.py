"""SSM in the sandbox: the public parameters of AWS's that the stack reads."""
