"""Where batches of experiments run: in this process, in a local process pool, or on a Dask cluster.

Every executor has one method, ``map(fn, items)``, which yields ``(index, result or exception)`` pairs as
items finish, in any order. Pools keep at most ``window`` items submitted at once (default: twice the
workers), so a sweep of a million experiments never queues a million tasks or holds their results. An
exception raised by ``fn`` is yielded, never raised, so the caller records it against the item's
experiments.

Each experiment's numbers depend only on its replicate seed and its design row (DESIGN.md, Randomness),
so every executor gives the same tables.

Examples
--------
>>> with make_executor("serial") as ex:
...     sorted(ex.map(abs, [-1, -2]))
[(0, 1), (1, 2)]

"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

__all__ = [
    "EXECUTORS",
    "DaskExecutor",
    "Executor",
    "ExecutorError",
    "ProcessExecutor",
    "SerialExecutor",
    "make_executor",
]

T = TypeVar("T")
R = TypeVar("R")

EXECUTORS: tuple[str, ...] = ("serial", "process", "dask")
"""Executor kinds accepted by :func:`make_executor` and the CLI's ``--executor``."""


class ExecutorError(ValueError):
    """Bad executor options, or an executor that cannot start (e.g. ``distributed`` not installed)."""


class Executor(Protocol):
    """Runs a function over work items; yields ``(index, result or exception)`` in any order."""

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[int, R | BaseException]]:
        """Apply ``fn`` to every item."""
        ...


def default_workers() -> int:
    """Number of CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not on Linux
        return max(1, os.cpu_count() or 1)


class _Closing:
    """Context-manager support for executors that hold a pool."""

    def close(self, abort: bool = False) -> None:
        """Release the executor's workers (no-op by default); ``abort`` stops running items too."""

    def __enter__(self: Any) -> Any:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        self.close(abort=exc_type is not None)


class SerialExecutor(_Closing):
    """Run work items one after another in this process.

    Examples
    --------
    >>> list(SerialExecutor().map(lambda x: 1 / x, [1, 0]))[1][1]
    ZeroDivisionError('division by zero')

    """

    workers = 1

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[int, R | BaseException]]:
        """Apply ``fn`` to every item in order, capturing exceptions per item."""
        for i, item in enumerate(items):
            try:
                yield i, fn(item)
            except Exception as e:  # recorded per experiment, never silently as zeros
                yield i, e

    def shares_path(self, path: Path) -> bool:
        """Whether the workers see ``path`` (always: they are this process)."""
        return True


def _watch_parent(parent: int, interval: float) -> None:
    """Worker thread: end this worker as soon as its parent process is gone (killed, or exited)."""
    import time

    while os.getppid() == parent:
        time.sleep(interval)
    os._exit(1)  # the parent is gone: nobody will read this worker's results, and parts must stop appearing


def _init_worker(parent: int, interval: float = 0.2) -> None:
    """Worker initialiser: ignore Ctrl-C, and never outlive the parent process.

    Ctrl-C goes to the parent, which stops the pool (workers never print tracebacks). Where the parent dies
    without stopping the pool (SIGKILL, a crash), the worker notices that its parent pid changed and exits
    within ``interval`` seconds, so no worker keeps writing parts into ``DIR.partial/``.
    """
    import signal
    import threading

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.getppid() != parent:  # the parent died while this worker was starting
        os._exit(1)
    threading.Thread(target=_watch_parent, args=(parent, interval), name="cartelsim-parent-watch", daemon=True).start()


class ProcessExecutor(_Closing):
    """Run work items in a pool of local worker processes (``spawn`` start method).

    ``fn`` and the items must be picklable: top-level functions, or ``functools.partial`` of them.

    Parameters
    ----------
    workers : int, optional
        Worker processes (default: the usable CPU cores).
    window : int, optional
        Most items submitted at once (default ``2 * workers``).

    Examples
    --------
    >>> with ProcessExecutor(workers=2) as ex:  # doctest: +SKIP
    ...     sorted(ex.map(abs, [-1, -2]))
    [(0, 1), (1, 2)]

    """

    def __init__(self, workers: int | None = None, window: int | None = None) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self.workers = default_workers() if workers is None else _positive("--workers", workers)
        self.window = 2 * self.workers if window is None else _positive("window", window)
        self._new_pool = lambda: ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )
        self._pool = self._new_pool()
        self._old_pools: list[Any] = []  # pools replaced after a dead worker (their workers are stopped too)
        self._previous_sigterm: Any = None
        self._install_sigterm()

    def _install_sigterm(self) -> None:
        """On SIGTERM, stop the workers first, then end as SIGTERM would (main thread only)."""
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return
        try:
            self._previous_sigterm = signal.signal(signal.SIGTERM, self._on_sigterm)
        except (ValueError, OSError):  # pragma: no cover - signals unavailable here
            self._previous_sigterm = None

    def _restore_sigterm(self) -> None:
        import signal
        import threading

        prev, self._previous_sigterm = self._previous_sigterm, None
        if prev is None or threading.current_thread() is not threading.main_thread():
            return
        if signal.getsignal(signal.SIGTERM) == self._on_sigterm:
            signal.signal(signal.SIGTERM, prev)

    def _on_sigterm(self, signum: int, frame: object) -> None:
        import signal

        prev = self._previous_sigterm
        self._abort()
        self._restore_sigterm()
        if callable(prev):
            prev(signum, frame)
        elif prev != signal.SIG_IGN:
            # unwinds through ``with executor:`` (which shuts the pool down) and the partial run's lock
            raise SystemExit(128 + signum)

    def _processes(self) -> list[Any]:
        return [
            proc
            for pool in (*self._old_pools, self._pool)
            for proc in list((getattr(pool, "_processes", None) or {}).values())
        ]

    def _abort(self) -> None:
        """Shut the pools down at once: queued items cancelled, every worker terminated and waited for.

        SIGTERM, then SIGKILL after a second. The pool's manager thread first drops the cancelled items (it
        must not find them when it notices the dead workers), and the call queue is not flushed at exit (no
        worker will read it).
        """
        import time

        procs = self._processes()
        pools = (*self._old_pools, self._pool)
        for pool in pools:
            call_queue = getattr(pool, "_call_queue", None)
            if call_queue is not None:
                call_queue.cancel_join_thread()
            pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + 1.0
        while any(getattr(p, "_cancel_pending_futures", False) for p in pools) and time.monotonic() < deadline:
            time.sleep(0.005)
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
        deadline = time.monotonic() + 1.0
        for proc in procs:
            proc.join(max(0.0, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()
                proc.join(1.0)

    def _submit(self, fn: Callable[[T], R], item: T) -> Future[R]:
        """Submit, replacing a pool broken by a dead worker (its in-flight items fail; later ones run)."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self._pool.submit(fn, item)
        except BrokenProcessPool:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._old_pools.append(self._pool)
            self._pool = self._new_pool()
            return self._pool.submit(fn, item)

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[int, R | BaseException]]:
        """Apply ``fn`` to every item in the pool, with at most ``window`` items in flight."""
        from concurrent.futures import FIRST_COMPLETED, wait

        it = enumerate(items)
        pending: dict[Future[R], int] = {}
        try:
            while True:
                for i, item in it:
                    pending[self._submit(fn, item)] = i
                    if len(pending) >= self.window:
                        break
                if not pending:
                    return
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    i = pending.pop(fut)
                    err = fut.exception()
                    yield i, (err if err is not None else fut.result())
        finally:
            for fut in pending:
                fut.cancel()

    def shares_path(self, path: Path) -> bool:
        """Whether the workers see ``path`` (always: they run on this machine)."""
        return True

    def close(self, abort: bool = False) -> None:
        """Stop the pool; with ``abort``, running items are abandoned (their parts are atomic: whole or absent).

        With ``abort`` the workers are terminated before the pool is shut down, so none outlives the call.
        """
        try:
            if abort:
                self._abort()
            else:
                for pool in (*self._old_pools, self._pool):
                    pool.shutdown(wait=True, cancel_futures=True)
            self._old_pools.clear()
        finally:
            self._restore_sigterm()


def _probe(path: str, token: str) -> bool:
    """Run on a Dask worker: whether it reads ``token`` in the file at ``path``."""
    try:
        return token in Path(path).read_text(encoding="utf-8")
    except OSError:
        return False


class DaskExecutor(_Closing):
    """Run work items on a Dask cluster (``distributed``; install ``cartelsim[distributed]``).

    With no ``scheduler`` it starts a :class:`distributed.LocalCluster` of ``workers`` single-threaded
    worker processes. The workers need the same cartelsim version installed.

    Parameters
    ----------
    workers : int, optional
        Workers of the local cluster (default: the usable CPU cores). With ``scheduler``, only sizes the
        window (default: the cluster's total threads).
    scheduler : str, optional
        Address of a running scheduler, e.g. ``tcp://10.0.0.5:8786``.
    window : int, optional
        Most items submitted at once (default ``2 * workers``).
    processes : bool
        Local cluster only: worker processes (True) or threads in this process (False).
    timeout : str or float
        How long to try connecting to ``scheduler`` (a Dask duration such as ``"20s"``, or seconds).

    Examples
    --------
    >>> with DaskExecutor(workers=2, processes=False) as ex:  # doctest: +SKIP
    ...     sorted(ex.map(abs, [-1, -2]))
    [(0, 1), (1, 2)]

    """

    def __init__(
        self,
        workers: int | None = None,
        scheduler: str | None = None,
        window: int | None = None,
        processes: bool = True,
        timeout: str | float = "20s",
    ) -> None:
        try:
            from distributed import Client, LocalCluster
        except ImportError as e:
            raise ExecutorError(
                f"--executor dask needs the distributed extra: pip install 'cartelsim[distributed]' ({e})"
            ) from None
        self._cluster = None
        if scheduler:
            try:
                self._client = Client(scheduler, timeout=timeout)
            except (OSError, TimeoutError) as e:
                raise ExecutorError(f"--scheduler {scheduler}: cannot connect ({e})") from None
            n = workers or sum(self._client.nthreads().values()) or 1
            self.workers = _positive("--workers", n)
        else:
            self.workers = default_workers() if workers is None else _positive("--workers", workers)
            self._cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=processes,
                dashboard_address=None,
                silence_logs=40,  # logging.ERROR: no worker chatter on the user's terminal
            )
            self._client = Client(self._cluster)
        self.window = 2 * self.workers if window is None else _positive("window", window)
        self._inflight: dict[Any, Any] = {}  # future key -> future, over every map() of this executor

    def map(self, fn: Callable[[T], R], items: Iterable[T]) -> Iterator[tuple[int, R | BaseException]]:
        """Apply ``fn`` to every item on the cluster, with at most ``window`` items in flight."""
        from distributed import as_completed

        it = enumerate(items)
        pending: dict[Any, tuple[int, Any]] = {}  # future key -> (item index, future)
        queue = as_completed()

        def fill() -> None:
            for i, item in it:
                fut = self._client.submit(fn, item, pure=False)
                pending[fut.key] = (i, fut)
                self._inflight[fut.key] = fut
                queue.add(fut)
                if len(pending) >= self.window:
                    return

        try:
            fill()
            for fut in queue:
                i, _ = pending.pop(fut.key)
                self._inflight.pop(fut.key, None)
                try:
                    res: R | BaseException = fut.result()
                except Exception as e:
                    res = e
                fut.release()
                yield i, res
                fill()
        finally:
            if pending:
                self._client.cancel([f for _, f in pending.values()], force=True)
                for key in pending:
                    self._inflight.pop(key, None)

    def shares_path(self, path: Path) -> bool:
        """Whether every worker reads ``path`` as this process does (a shared file system)."""
        token = Path(path).read_text(encoding="utf-8")
        try:
            seen = self._client.run(_probe, str(Path(path).resolve()), token)
        except Exception:
            return False
        return bool(seen) and all(seen.values())

    def close(self, abort: bool = False) -> None:
        """Close the client and the local cluster, if this executor started one.

        With ``abort``, this command's tasks still queued or running on the cluster are cancelled first (a
        shared scheduler keeps running other clients' work).
        """
        if abort and self._inflight:
            try:
                self._client.cancel(list(self._inflight.values()), force=True)
            except Exception:  # the client may already be gone; closing it is what matters
                pass
        self._inflight.clear()
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def _positive(name: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ExecutorError(f"{name} must be a positive integer (got {value!r})")
    return value


def make_executor(
    kind: str = "serial", workers: int | None = None, scheduler: str | None = None, **options: Any
) -> SerialExecutor | ProcessExecutor | DaskExecutor:
    """Build an executor by name.

    Parameters
    ----------
    kind : {"serial", "process", "dask"}
        Where batches run.
    workers : int, optional
        Worker processes (``process``, ``dask``); refused for ``serial``.
    scheduler : str, optional
        Dask scheduler address (``dask`` only); none starts a local cluster.
    **options
        Passed to the executor (``window``; ``processes`` for a local Dask cluster).

    Raises
    ------
    ExecutorError
        Unknown kind, or an option the kind does not take (the message names the option and the allowed
        values).

    """
    if kind not in EXECUTORS:
        raise ExecutorError(f"--executor {kind!r}: unknown; allowed: {', '.join(EXECUTORS)}")
    if scheduler and kind != "dask":
        raise ExecutorError(f"--scheduler applies to --executor dask only (got --executor {kind})")
    if kind == "serial":
        if workers not in (None, 1):
            raise ExecutorError(f"--workers applies to --executor process or dask (got --executor serial, {workers})")
        return SerialExecutor()
    if kind == "process":
        return ProcessExecutor(workers, **options)
    return DaskExecutor(workers, scheduler, **options)
