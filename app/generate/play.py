"""Play suites offline through the ordinary runner and hand back the stored run documents.

Generation reads only what any run stores (each step's heard text, the transcript, the flow
coverage), so it keeps working however the simulator plays a call. Runs go to a store held in
memory: exploring places hundreds of calls nobody wants in results/db.json.
"""
from app.runner import Job, OfflineRunner
from app.suite import parse_suite


class MemoryStore:
    """Just what the runner needs of a results store, kept in a dict."""

    def __init__(self):
        self.docs = {}

    def save(self, document, durable=True):
        self.docs[document["unique_id"]] = document

    def make_durable(self):
        pass

    def get(self, run_id):
        return self.docs.get(run_id)

    def runs(self, last=None, status=None):
        return list(self.docs.values())[-last:] if last else list(self.docs.values())

    def flush(self):
        pass

    def close(self):
        pass


def play(target, suites, noise="off", seed=0):
    """Run every suite (Suite objects or suite JSON) against `target`; returns (documents,
    coverage by flow path). Noise is off by default: what the IVR says is recorded exactly."""
    suites = [s if hasattr(s, "steps") else parse_suite(s, f"<generated {n}>") for n, s in enumerate(suites)]
    if not suites:
        return [], {}
    runner = OfflineRunner(MemoryStore(), seed=seed, noise=noise, concurrency=max(1, len(suites)))
    result = runner.run([Job(suite, target) for suite in suites])
    return result.documents, result.coverage
