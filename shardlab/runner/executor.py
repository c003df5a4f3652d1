"""Where seed tasks run: in-process, in a local process pool, or on a Ray cluster.

Every executor yields results as tasks finish, in any order, so the runner can store each seed the
moment it is done; results therefore carry their own key.
"""

import logging
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Protocol, TypeVar

import shardlab
from shardlab.errors import ShardlabError, require
from shardlab.experiments.registry import PLUGINS_ENV

T = TypeVar("T")
R = TypeVar("R")

BACKENDS = ("local", "ray")


class Executor(Protocol):
    """Runs independent tasks somewhere; the runner needs nothing else from a backend."""

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """Apply top-level picklable `fn` to every item; yield results as they complete."""
        ...


class LocalExecutor:
    """One machine. One worker (or one task) runs in-process, without a pool; more use fresh
    "spawn" processes because JAX is not fork-safe."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = workers

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        tasks = list(items)
        workers = min(self.workers, len(tasks))
        if workers <= 1:
            yield from map(fn, tasks)
            return
        context = multiprocessing.get_context("spawn")
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=context)
        try:
            futures = [pool.submit(fn, task) for task in tasks]
            for future in as_completed(futures):
                yield future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor:
    """A Ray cluster at `address`, or a local Ray with `num_cpus` CPUs when no address is given.

    shardlab itself is shipped to the workers (`py_modules`), so a cluster needs only the
    dependencies; plugin modules named in $SHARDLAB_PLUGINS must be importable there.
    """

    def __init__(self, address: str | None = None, num_cpus: int | None = None) -> None:
        require("ray", "cluster")
        self.address = address
        self.num_cpus = None if address else num_cpus

    def _init(self) -> None:
        import ray

        env_vars = {PLUGINS_ENV: os.environ[PLUGINS_ENV]} if PLUGINS_ENV in os.environ else {}
        try:
            ray.init(
                address=self.address,
                num_cpus=self.num_cpus,
                include_dashboard=False,
                ignore_reinit_error=True,
                log_to_driver=False,
                logging_level=logging.WARNING,
                runtime_env={"py_modules": [shardlab], "env_vars": env_vars},
            )
        except ConnectionError as error:
            raise ShardlabError(f"cannot connect to Ray at '{self.address}': {error}") from None

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        import ray

        tasks = list(items)
        if not tasks:
            return
        self._init()
        remote = ray.remote(fn)
        pending = [remote.remote(task) for task in tasks]
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            yield ray.get(done[0])


def make_executor(backend: str, workers: int = 1, ray_address: str | None = None) -> Executor:
    """Build the executor a `--backend` names; `workers` sizes the pool or the local Ray."""
    if workers < 1:
        raise ShardlabError(f"workers must be at least 1, got {workers}")
    if backend == "local":
        return LocalExecutor(workers)
    if backend == "ray":
        return RayExecutor(ray_address, num_cpus=workers)
    raise ShardlabError(f"unknown backend '{backend}' (choose from: {', '.join(BACKENDS)})")
