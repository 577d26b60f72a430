"""The webhook server: waitress with `SERVER_OPTIONS`, accepting connections in batches.

waitress accepts one connection per turn of its main loop, and a turn walks every open
connection (about 1 ms per 1,000 in Python, longer while the worker threads hold the
interpreter lock). With 1,000 connections held open by a proxy, new connections came in faster
than one per turn: they queued in the kernel's backlog (100-170 waiting) and a call's `/voice`,
which opens a connection, waited 1-2 s before waitress even read it (`bench/serve_capacity.py`,
`ss -ltn` during the run). Accepting every waiting connection in one turn, up to `ACCEPT_BATCH`
and never past `connection_limit`, removes that queue.
"""
from waitress.server import create_server as waitress_server

from app import SERVER_OPTIONS

ACCEPT_BATCH = 64


def create_server(app, **options):
    """A waitress server for `app` (not started) with `SERVER_OPTIONS`, overridden by
    `options` (host, port, map, ...). Raises what waitress raises for a port in use."""
    server = waitress_server(app, **{**SERVER_OPTIONS, **options})
    for listener in _listeners(server):
        _accept_in_batches(listener)
    return server


def _listeners(server):
    """The dispatchers that accept: the server itself, or each of a multi-socket server's."""
    connections = getattr(server, "_map", None) or getattr(server, "map", {})
    return [item for item in list(connections.values()) if getattr(item, "accepting", False)]


def _accept_in_batches(listener):
    accept_one = listener.handle_accept

    def handle_accept():
        room = listener.adj.connection_limit - len(listener._map)
        for _ in range(max(1, min(ACCEPT_BATCH, room))):
            before = len(listener._map)
            accept_one()                    # waitress's: None when nothing waits, logs errors
            if len(listener._map) == before:
                return
    listener.handle_accept = handle_accept
