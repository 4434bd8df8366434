"""The command line: thin Typer commands over ebami's library functions."""
