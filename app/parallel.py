"""Offline calls on every core: suites spread over worker processes, merged back in suite order.

The parent process keeps the results store, the console and the coverage. Each worker (started
with "spawn", so it inherits none of the parent's threads, such as the store's writer, or open
files) plays chunks of consecutive jobs on its own OfflineRunner and virtual clock, and sends
back each run's final document and its console lines. The parent stores, reports and counts
them in suite order, so the store, the output and the verdicts are those of one process: calls
are independent of each other, and each call's recognition noise is keyed by its suite's file and
run number, which the parent computes exactly as one process does.

Starting a worker costs a Python start-up and loading the flows and bots (about a second of CPU),
so a run stays in this process until it has `min_jobs_per_worker` calls for each worker.
Runs in a worker's hands are written when they come back, not while queued: if the parent is
killed, those runs are missing from the store rather than marked interrupted.
"""
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor

from app.coverage import Coverage
from app.report import ConsoleReporter
from app.runner import OfflineResult, OfflineRunner, summarize, with_noise_keys

MIN_JOBS_PER_WORKER = 500    # below this many calls per worker, starting one costs more than it saves
MAX_CHUNK_JOBS = 25          # jobs per task: small enough to balance, large enough to be cheap to send

_worker = None               # the OfflineRunner of this worker process


def run_parallel(runner, jobs, min_jobs_per_worker=MIN_JOBS_PER_WORKER):
    """Play `jobs` on up to `runner.workers` processes with `runner`'s options; an OfflineResult
    whose runs are in `runner.store`, reported to `runner.reporter`, in suite order."""
    items = list(with_noise_keys(jobs))
    workers = min(runner.workers, len(items) // max(1, min_jobs_per_worker))
    if workers <= 1:
        return runner.run_here(jobs)
    wall = time.perf_counter()
    result = OfflineResult(store=runner.store, coverage=runner.coverage)
    reporter = runner.reporter
    display = None if reporter is None else {"quiet": reporter.quiet, "verbose": reporter.verbose}
    size = max(1, min(MAX_CHUNK_JOBS, len(items) // (workers * 4)))
    chunks = [items[i:i + size] for i in range(0, len(items), size)]
    pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                               initializer=_start_worker, initargs=(runner.options, display))
    try:   # a worker that dies raises BrokenProcessPool here instead of hanging the run
        for finished, span in pool.map(_play_chunk, chunks):
            result.virtual_seconds += span
            finished.sort(key=lambda item: item[0])
            for _index, _run_id, document, _lines in finished:   # a chunk's runs share one fsync
                runner.store.save(document, durable=False)
            runner.store.make_durable()
            for index, run_id, document, lines in finished:
                _merge(runner, result, items[index][1], run_id, document, lines)
    finally:
        pool.shutdown(cancel_futures=True)
    runner.store.flush()
    result.wall_seconds = time.perf_counter() - wall
    return result


def _merge(runner, result, job, run_id, document, lines):
    """One run back from a worker, stored (durably): its coverage counted, reported, summarized."""
    covered = document.get("coverage")
    if covered is not None and job.target.kind == "flow":
        flow = job.target.value
        if flow not in runner.coverage:
            runner.coverage[flow] = Coverage(runner.ivrs.flow(flow))
        runner.coverage[flow].add(covered["blocks"], [tuple(branch) for branch in covered["branches"]])
    summary = summarize(document)
    result.add(run_id, summary)
    if runner.reporter:
        runner.reporter.finished(summary, lines)


def _start_worker(options, display):
    global _worker
    reporter = None
    if display is not None:
        reporter = ConsoleReporter(color=False, echo=lambda *_args: None, **display)
    _worker = OfflineRunner(NoStore(), reporter=reporter, **options)


def _play_chunk(chunk):
    """Play consecutive (index, job, noise key) items; [(index, run id, document, console lines)]
    and the virtual seconds the chunk took on this worker's clock."""
    runner, finished = _worker, []
    started = runner.clock.now

    def done(index, run_id, document):
        lines = runner.reporter.take_held(run_id) if runner.reporter else []
        finished.append((index, run_id, document, lines))
    runner.play(chunk, done)
    return finished, runner.clock.now - started


class NoStore:
    """A worker's store: nothing is kept there, its runs go back to the parent."""

    def save(self, document, durable=True):
        pass

    def make_durable(self):
        pass

    def flush(self):
        pass
