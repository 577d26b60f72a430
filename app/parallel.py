"""Offline calls on every core: suites spread over processes, merged back in suite order.

`--workers N` plays the jobs in N processes: this one and N - 1 workers, forked on Linux while
no other thread of this process runs (the store's writer is paused), spawned elsewhere.
The jobs are cut into chunks of consecutive jobs; each worker plays the chunks it is handed on
its own OfflineRunner and virtual clock, and between two hand-overs this process plays the next
chunk itself (so its core is busy while the workers start, and the parent's own work, printing,
costs no core of its own). Every process stores its runs itself in the same results file,
through a ResultStore of its own (its own journal, appending under the file's lock like any
other writer; see app/store.py). A chunk is done once its runs are durable (one journal fsync
for the chunk); a worker's comes back as each run's summary and console lines and the chunk's
flow coverage: a few hundred bytes a run instead of its whole document. This process reports
and counts the chunks in suite order, so the output and the verdicts are those of one process
and every run is in the one results file: calls are independent of each other, and each call's
recognition noise is keyed by its suite's content and run number, which this process computes
exactly as one process does.

A worker's runs follow the store's rules: a run is stored queued when its call starts and final
when it ends. A worker whose parent dies (even by SIGKILL) notices, marks the runs in its hands
`interrupted`, stores them and exits; a worker that is itself killed leaves its journal, which
the next process to write the file takes over (open runs interrupted, finished ones kept). Jobs
no worker has started are not in the store, as in one process.

Starting a worker costs a fork (a spawned one: a Python start-up and loading the flows and bots,
about 0.6 s of CPU), so a run stays in this process until it has `min_jobs_per_worker` calls for
each worker.
"""
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import wait as wait_for
from multiprocessing.connection import wait
from multiprocessing.util import Finalize

from app.coverage import Coverage
from app.errors import StorageError
from app.report import ConsoleReporter
from app.runner import OfflineResult, OfflineRunner, summarize, with_noise_keys

MIN_JOBS_PER_WORKER = 500    # below this many calls per worker, starting one costs more than it saves
MAX_CHUNK_JOBS = 100         # jobs per task: small enough to balance, large enough to be cheap to send
MIN_CHUNK_JOBS = 10          # the last chunks: a journal fsync and a hand-over each
CHUNKS_PER_WORKER = 8        # at least this many chunks each, so the last ones balance the end
IN_FLIGHT = 3                # chunks queued per worker: one playing, the next ones sent ahead

_worker = None               # the OfflineRunner of this worker process
_worker_failure = None       # a StorageError met while starting it, raised by its first chunk


def run_parallel(runner, jobs, min_jobs_per_worker=MIN_JOBS_PER_WORKER):
    """Play `jobs` on `runner.workers` processes (this one and `workers - 1` started ones) with
    `runner`'s options; an OfflineResult whose runs are in `runner.store`'s file, reported to
    `runner.reporter`, in suite order."""
    items = list(with_noise_keys(jobs))
    workers = min(runner.workers, len(items) // max(1, min_jobs_per_worker))
    if workers <= 1:
        return runner.run_here(jobs)
    wall = time.perf_counter()
    result = OfflineResult(store=runner.store, coverage=runner.coverage)
    reporter = runner.reporter
    display = None if reporter is None else {"quiet": reporter.quiet, "verbose": reporter.verbose}
    chunks = _chunked(items, workers)
    pool, result.worker_start = _pool(workers - 1, runner, (runner.options, display, str(runner.store.path)))
    result.calls_here = 0                   # how many this process played (for bench/)
    try:   # a worker that dies raises BrokenProcessPool here instead of hanging the run
        for finished, coverage, span, here in _chunks_played(runner, pool, workers - 1, chunks):
            result.virtual_seconds += span
            if here:
                result.calls_here += len(finished)
            else:
                runner.store.stored_elsewhere += len(finished)
            _merge_coverage(runner, [items[index][1] for index, *_ in finished], coverage)
            for _index, run_id, summary, lines in finished:
                result.add(run_id, summary)
                if reporter:
                    reporter.finished(summary, lines)
    finally:
        pool.shutdown(cancel_futures=True)  # each worker stores the rest of its runs and exits
    runner.store.flush()                    # and a worker that could not is taken over here
    result.wall_seconds = time.perf_counter() - wall
    return result


def _pool(size, runner, initargs):
    """`size` worker processes, and how they were started ("fork" or "spawn").

    Forked where that is safe: on Linux, with no other thread alive once the store's writer is
    paused (a thread holding a lock at the fork would leave that lock held forever in the
    child). A forked worker starts with this process's modules loaded: its first calls are back
    in about 0.1 s, where a spawned one first spends about 0.6 s of CPU (a second of wall time)
    importing and loading, a third of a 2,000-call run on two cores. Elsewhere, or with another
    thread running (the progress display on a terminal), the workers are spawned."""
    with runner.store.writer_paused():
        forking = sys.platform.startswith("linux") and threading.active_count() == 1
        method = "fork" if forking else "spawn"
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()              # else a forked child would write its buffer again
        pool = ProcessPoolExecutor(size, mp_context=multiprocessing.get_context(method),
                                   initializer=_start_worker, initargs=initargs)
        if forking:     # a "fork" pool forks all its workers at the first submit, before it
            pool.submit(os.getpid)          # starts a thread of its own: here, while it is safe
    return pool, method


def _chunked(items, workers):
    """Consecutive chunks, smaller towards the end (each about what is left over
    `workers * CHUNKS_PER_WORKER`, between MIN_ and MAX_CHUNK_JOBS): large ones cost less to
    hand over, and small last ones let every process finish at about the same time."""
    chunks, start = [], 0
    while start < len(items):
        left = len(items) - start
        size = max(MIN_CHUNK_JOBS, min(MAX_CHUNK_JOBS, left // (workers * CHUNKS_PER_WORKER)))
        chunks.append(items[start:start + size])
        start += size
    return chunks


def _chunks_played(runner, pool, pool_size, chunks):
    """Each chunk's (finished, coverage, span, played here), in chunk order. Each worker is kept
    `IN_FLIGHT` chunks not yet done; between two hand-overs this process plays the next chunk
    itself, so its core works while the workers start (a second or so) and none idles. Once
    every chunk is handed out, it takes back the last ones no worker has started yet."""
    submitted, ready, emitted, following = {}, {}, 0, 0

    def hand_out():
        """Top each worker up to IN_FLIGHT chunks not yet done."""
        nonlocal following
        while following < len(chunks) and \
                sum(not future.done() for future in submitted.values()) < pool_size * IN_FLIGHT:
            submitted[following] = pool.submit(_play_chunk, chunks[following])
            following += 1
    while emitted < len(chunks):
        hand_out()
        head = submitted.get(emitted)
        if head is None or not head.done():
            index = following if following < len(chunks) else _take_back(submitted)
            if index is not None:
                ready[index] = (*_play(runner, chunks[index]), True)
                following = max(following, index + 1)
            elif head is not None:
                wait_for([head])            # nothing left to play here: the next one is a worker's
        while True:
            if emitted in submitted and submitted[emitted].done():
                ready[emitted] = (*submitted.pop(emitted).result(), False)
            if emitted not in ready:
                break
            yield ready.pop(emitted)        # printed meanwhile: keep the workers busy
            emitted += 1
            hand_out()


def _take_back(submitted):
    """The last submitted chunk no worker has started (cancelled, so this process plays it),
    or None."""
    for index in sorted(submitted, reverse=True):
        if submitted[index].cancel():
            del submitted[index]
            return index
    return None


def _merge_coverage(runner, jobs, coverage):
    """A chunk's coverage, {flow: (blocks, branches)}, added to the run's. A flow's entry is made
    at its first job in suite order, as one process makes it when that job's call starts."""
    for job in jobs:
        flow = job.target.value
        if job.target.kind == "flow" and flow in coverage and flow not in runner.coverage:
            runner.coverage[flow] = Coverage(runner.ivrs.flow(flow))
    for flow, (blocks, branches) in coverage.items():
        if flow not in runner.coverage:
            runner.coverage[flow] = Coverage(runner.ivrs.flow(flow))
        runner.coverage[flow].add(blocks, branches)


def _start_worker(options, display, path):
    global _worker, _worker_failure
    from app.store import ResultStore, forget_inherited_stores
    forget_inherited_stores()               # a forked worker's copies of the parent's
    # Ctrl-C reaches the whole process group: the parent stops the run, and a worker finishes
    # the chunks it was handed and exits when the pool shuts down (no traceback from here).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    reporter = None
    if display is not None:
        reporter = ConsoleReporter(color=False, echo=lambda *_args: None, **display)
    try:
        store = ResultStore(path)
    except StorageError as exc:
        _worker_failure = exc
        return
    # A spawned process leaves through os._exit: atexit does not run, multiprocessing's
    # finalizers do. Closing marks the runs still open interrupted and appends the rest.
    Finalize(store, store.close, exitpriority=10)
    _worker = OfflineRunner(store, reporter=reporter, **options)
    threading.Thread(target=_stop_with_parent, args=(store,), name="parent-watch", daemon=True).start()


def _stop_with_parent(store):
    """The parent died (SIGKILL, a crash): nobody will report this worker's runs, and its pool
    would wait forever. Store what it has (open runs interrupted) and exit."""
    wait([multiprocessing.parent_process().sentinel])
    store.close(late_saves=False)           # the calls still playing cannot start more runs
    os._exit(1)


def _play_chunk(chunk):
    """A chunk played in a worker: see `_play`."""
    if _worker_failure is not None:
        raise _worker_failure
    return _play(_worker, chunk)


def _play(runner, chunk):
    """Play consecutive (index, job, noise key) items, store their runs (durably), and return
    [(index, run id, summary, console lines)], the chunk's coverage by flow and the virtual
    seconds it took on `runner`'s clock. The chunk's coverage is kept apart and merged in suite
    order, so the flows are listed as one process lists them."""
    finished, started = [], runner.clock.now
    own, runner.coverage = runner.coverage, {}

    def done(index, run_id, document):
        runner.store.save(document, durable=False)
        lines = runner.reporter.take_held(run_id) if runner.reporter else []
        finished.append((index, run_id, summarize(document), lines))
    try:
        runner.play(chunk, done)
    finally:
        chunk_coverage, runner.coverage = runner.coverage, own
    runner.store.make_durable()             # before anyone may report one of them
    finished.sort(key=lambda item: item[0])
    coverage = {flow: (cov.visited, cov.taken) for flow, cov in chunk_coverage.items()}
    return finished, coverage, runner.clock.now - started


class NoStore:
    """A store that keeps nothing (bench/memory.py measures the runner alone with it)."""

    def save(self, document, durable=True):
        pass

    def make_durable(self):
        pass

    def flush(self):
        pass
