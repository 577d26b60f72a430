"""app/serving.py: the webhook server accepts every waiting connection in one turn of its loop."""
import socket
import time

from waitress import wasyncore

from app import create_app
from app.serving import create_server


def test_one_turn_accepts_every_waiting_connection(tmp_path):
    connections = {}
    app = create_app({"TESTING": True, "RESULTS_DB": str(tmp_path / "db.json")})
    server = create_server(app, map=connections, host="127.0.0.1", port=0)
    clients = [socket.create_connection(("127.0.0.1", server.effective_port), timeout=5)
               for _ in range(10)]
    try:
        time.sleep(0.1)                           # the handshakes are done: all 10 wait in the backlog
        before = len(connections)
        wasyncore.loop(timeout=1, map=connections, use_poll=True, count=1)
        assert len(connections) - before == 10    # waitress alone: 1 per turn
    finally:
        for client in clients:
            client.close()
        server.close()
        for channel in list(connections.values()):
            channel.close()


def test_a_turn_never_goes_past_the_connection_limit(tmp_path):
    connections = {}
    app = create_app({"TESTING": True, "RESULTS_DB": str(tmp_path / "db.json")})
    server = create_server(app, map=connections, host="127.0.0.1", port=0, connection_limit=5)
    clients = [socket.create_connection(("127.0.0.1", server.effective_port), timeout=5)
               for _ in range(8)]
    try:
        time.sleep(0.1)
        wasyncore.loop(timeout=1, map=connections, use_poll=True, count=3)
        assert len(connections) == 5              # the listener and its trigger count, as in waitress
    finally:
        for client in clients:
            client.close()
        server.close()
        for channel in list(connections.values()):
            channel.close()


def test_callbacks_twilio_ignores_keep_the_connection_open(tmp_path):
    """/partial and /status answer 200 with a length: waitress closes the connection after a
    204, and the call's next webhook would have to open a new one."""
    import http.client
    import threading
    connections = {}
    app = create_app({"TESTING": True, "RESULTS_DB": str(tmp_path / "db.json")})
    server = create_server(app, map=connections, host="127.0.0.1", port=0)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    conn = http.client.HTTPConnection("127.0.0.1", server.effective_port, timeout=5)
    try:
        form = "CallSid=CA" + "1" * 32 + "&StableSpeechResult=hello&CallStatus=completed"
        for path in ("/partial?run=nope&step=0", "/partial?run=nope&step=0"):
            conn.request("POST", path, body=form,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
            response = conn.getresponse()
            response.read()
            assert response.status == 200 and response.getheader("Connection") is None
        assert conn.sock is not None                          # the same connection, still open
    finally:
        conn.close()
        server.task_dispatcher.shutdown()
        server.close()
        for channel in list(connections.values()):
            channel.close()
        thread.join(5)
