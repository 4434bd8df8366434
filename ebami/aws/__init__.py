"""ebami's only contact with boto3: one session factory and small typed wrappers per service.

Importing this package imports boto3; commands that need no AWS must not import it.
"""
