"""Helpers the tests share that are neither fakes nor fixtures: running the real ebami against
a sandbox and reading the sandbox back (the end-to-end tests), the refusals of bad input, and
the shape check of the sandbox's answers against botocore's models (shapecheck/).
A test module imports these, never another test module."""
