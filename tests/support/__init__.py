"""Helpers the tests share that are neither fakes nor fixtures: running the real ebami against
a sandbox and reading the sandbox back (the end-to-end tests), and the refusals of bad input.
A test module imports these, never another test module."""
