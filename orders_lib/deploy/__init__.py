"""Deployment helpers: stack naming, synthesis, credential checks, operating a
deployed stack. Never imported by the Lambda handlers (not in the asset)."""
