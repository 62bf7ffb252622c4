"""Order pipeline: domain, AWS adapters and use cases shared by the Lambda
handlers, the notebooks, the command line and the local sandbox.

The Lambda side (``settings``, ``domain``, ``aws``, ``pipeline``) imports only
the standard library, boto3 and Powertools, so a handler's cold start stays
small. Workbook and sandbox code lives in modules the handlers never import.
"""

__version__ = "0.1.0"
