"""`python -m ebami` runs the command line."""

from ebami.cli.main import run

if __name__ == "__main__":
    run()
