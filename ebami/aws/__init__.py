"""ebami's only contact with botocore: one session factory and small typed wrappers per service.

Importing its modules imports botocore; commands that need no AWS must not import them.
"""
