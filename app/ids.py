"""Unique ids for runs and simulated calls: 128 random bits as 32 hex digits, as `uuid4().hex`.

`uuid4()` reads the kernel's random source on every call, a system call that costs about 20 us
on a virtual machine: two a call, a few percent of an offline call's CPU. Ids only need to be
unique, not secret (a request naming a run is still signed and checked), so a generator seeded
once per process from that source gives ids as unique, for a fraction of the cost. It is seeded
again in a forked child, so two processes never share a sequence.
"""
import os
import random

_source = random.Random(os.urandom(32))


def _reseed():
    _source.seed(os.urandom(32))


os.register_at_fork(after_in_child=_reseed)


def new_id():
    """32 lowercase hex digits, unique across processes and runs."""
    return f"{_source.getrandbits(128):032x}"
