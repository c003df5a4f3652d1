"""`python -m shardlab`: the CLI without relying on the installed entry-point script."""

from shardlab.cli import main

if __name__ == "__main__":
    main()
