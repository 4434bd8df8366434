"""`python -m ebami` runs the command line."""

from ebami.cli.main import main

if __name__ == "__main__":
    raise SystemExit(main())
