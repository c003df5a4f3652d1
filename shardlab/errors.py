"""One exception type for every mistake a user can make, so the CLI can print it in one line."""


class ShardlabError(Exception):
    """A user-facing error: bad input, a missing extra, an unusable path. Never a bug."""


def require(module: str, extra: str) -> None:
    """Fail clearly when an optional extra is not installed."""
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ShardlabError(
            f"'{module}' is not installed; install the extra with: pip install 'shardlab[{extra}]'"
        )
