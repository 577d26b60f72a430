"""How a simulated call leg asks a webhook app for TwiML, the way Twilio's servers do.

A fetcher is any callable `fetch(method, url, params) -> (status_code, body_text)`. The leg does
not care whether the app runs in this process or behind a real socket, so tests can drive a Flask
app directly and the runner can drive any app (Django, Node, ...) on localhost over HTTP.

Both fetchers send what Twilio sends:
- POST: the call parameters form-encoded in the body; GET: the parameters in the query string
  (Twilio then signs the URL alone, with no body parameters);
- with an auth token, `X-Twilio-Signature`: HMAC-SHA1 of the full URL plus the sorted POST
  fields, computed with `twilio.request_validator.RequestValidator`, so apps that validate
  signatures accept the simulated calls unchanged.

Both are bounded as Twilio bounds them: a body over 64 kB (MAX_BODY_BYTES) is refused with
error 11750 after reading no more than that, and HttpFetcher gives up when the whole response
has not arrived within 15 s of wall time (TOTAL_TIMEOUT), however slowly it trickles in:
error 11205. An in-process app that raises is answered as a server answers: HTTP 500.

A request that gets no usable HTTP response (connection refused, timeout, malformed URL, body
too large) raises `FetchError` with Twilio's code; a fetcher never returns status 0.
"""
import io
import os
import sys
import threading
from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urlencode, urlsplit

import requests
from twilio.request_validator import RequestValidator

from app.simulator.twiml_attrs import HTTP_CONNECTION_FAILURE, RESPONSE_TOO_LARGE

USER_AGENT = "TwilioProxy/1.1"
MAX_BODY_BYTES = 64 * 1024
TOTAL_TIMEOUT = 15.0
CONNECT_TIMEOUT = 10.0
_TITLES = {HTTP_CONNECTION_FAILURE: "HTTP connection failure",
           RESPONSE_TOO_LARGE: "TwiML response body too large"}


class FetchError(Exception):
    """The request got no usable HTTP response; `code` is Twilio's error code for it."""

    def __init__(self, message, code=HTTP_CONNECTION_FAILURE):
        super().__init__(message)
        self.code = code

    @property
    def title(self):
        return _TITLES.get(self.code, "HTTP retrieval failure")


def too_large(method, url):
    return FetchError(f"{method} {url}: the response body is larger than "
                      f"{MAX_BODY_BYTES // 1024} kB", RESPONSE_TOO_LARGE)


def twiml_auth_token(env=os.environ):
    """The token that signs requests to a TwiML target: TWIML_AUTH_TOKEN (for an app that
    validates with another account's token), else TWILIO_AUTH_TOKEN; None leaves them unsigned."""
    return (env.get("TWIML_AUTH_TOKEN") or env.get("TWILIO_AUTH_TOKEN") or "").strip() or None


def sign(auth_token, url, params):
    """The X-Twilio-Signature value for a request to `url` carrying form fields `params`."""
    return RequestValidator(auth_token).compute_signature(url, params)


def with_query(url, params):
    """`url` with `params` appended to its query string, as Twilio builds a GET request."""
    if not params:
        return url
    return url + ("&" if urlsplit(url).query else "?") + urlencode(params)


def _prepare(method, url, params):
    """Return (method, url to request, form fields for the body and the signature)."""
    method = (method or "POST").upper()
    params = {str(key): str(value) for key, value in (params or {}).items()}
    if method == "GET":
        return method, with_query(url, params), {}
    return method, url, params


class FlaskFetcher:
    """Fetches TwiML from a WSGI app (Flask) in this process, by calling it with a WSGI environ.

    The URL's path and query are what the app sees; its scheme and host become the request's
    base URL, so `request.url` inside the app equals the URL the leg asked for. When the app sits
    behind a tunnel in production and validates signatures against its public address, pass
    `public_url` (e.g. "https://abc.ngrok.io"): the signature then covers public_url + path + query.
    Cookies are not kept between requests.
    """

    def __init__(self, app, auth_token=None, public_url=None):
        self.app = app
        self.auth_token = auth_token
        self.public_url = public_url.rstrip("/") if public_url else None

    def __call__(self, method, url, params):
        method, url, form = _prepare(method, url, params)
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        environ = _environ(method, parts, form)
        if self.auth_token:
            signed_url = self.public_url + target if self.public_url else url
            environ["HTTP_X_TWILIO_SIGNATURE"] = sign(self.auth_token, signed_url, form)
        code, body = _call_wsgi(self.app, environ)
        if body is None:
            raise too_large(method, url)
        return code, body


def _environ(method, parts, form):
    """A WSGI environ for one request, built directly: werkzeug's test client builds the same
    through several layers, and offline runs send thousands of these."""
    body = urlencode(form).encode() if method != "GET" else b""
    scheme = parts.scheme or "http"
    host = parts.hostname or "localhost"
    port = parts.port or (443 if scheme == "https" else 80)
    return {
        "REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": parts.path or "/",
        "QUERY_STRING": parts.query, "SERVER_NAME": host, "SERVER_PORT": str(port),
        "SERVER_PROTOCOL": "HTTP/1.1", "HTTP_HOST": parts.netloc or host,
        "HTTP_USER_AGENT": USER_AGENT, "CONTENT_TYPE": "application/x-www-form-urlencoded",
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr, "wsgi.url_scheme": scheme,
        "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": False,
        "wsgi.run_once": False, "REMOTE_ADDR": "127.0.0.1",
    }


def _call_wsgi(app, environ):
    """Call a WSGI app and collect (status code, body text); the body is None when it is over
    MAX_BODY_BYTES. An app that raises (a debug-mode Flask app propagates its exceptions) is
    answered with 500, as the server in front of it would."""
    status = []
    try:
        chunks = app(environ, lambda code, headers, exc_info=None: status.append(code))
    except Exception:   # the app's own bug: what Twilio sees is a 500
        return 500, "Internal Server Error"
    try:
        body = bytearray()
        for chunk in chunks:
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return int(status[0].split(" ", 1)[0]), None
    except Exception:
        return 500, "Internal Server Error"
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return int(status[0].split(" ", 1)[0]), body.decode("utf-8", "replace")


class HttpFetcher:
    """Fetches TwiML over real HTTP with a `requests.Session` (keep-alive across requests).

    The full URL as requested is what gets signed. Connecting may take CONNECT_TIMEOUT seconds
    and the whole response `timeout` seconds (Twilio's 15): the request runs in a worker thread
    that the caller stops waiting for at the deadline, so a server that trickles its headers or
    body byte by byte cannot stall a run. Bodies are streamed and refused past MAX_BODY_BYTES.
    Redirects (3xx) are followed, as Twilio follows them. Cookies an app sets are kept for the
    rest of that call only, as Twilio keeps them: `for_call()` gives each call its own jar,
    while the session (and its keep-alive connections) is shared and keeps none.
    """

    def __init__(self, auth_token=None, timeout=TOTAL_TIMEOUT, session=None,
                 max_bytes=MAX_BODY_BYTES):
        self.auth_token = auth_token
        self.timeout, self.max_bytes = timeout, max_bytes
        self.session = session or requests.Session()
        self.session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))

    def for_call(self):
        """A fetcher for one call: this one's session, with a cookie jar of its own."""
        jar = requests.cookies.RequestsCookieJar()
        return lambda method, url, params: self(method, url, params, jar)

    def __call__(self, method, url, params, cookies=None):
        method, url, form = _prepare(method, url, params)
        headers = {"User-Agent": USER_AGENT}
        if self.auth_token:
            headers["X-Twilio-Signature"] = sign(self.auth_token, url, form)
        outcome, abandoned = {}, threading.Event()
        worker = threading.Thread(target=self._fetch, daemon=True,
                                  args=(method, url, form, headers, outcome, abandoned, cookies))
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():
            abandoned.set()
            raise FetchError(f"{method} {url}: no complete response within {self.timeout:g} s "
                             f"(Twilio's limit)")
        if "error" in outcome:
            raise outcome["error"]
        return outcome["status"], outcome["body"]

    def _fetch(self, method, url, form, headers, outcome, abandoned, cookies):
        """The worker: one request, its body read in chunks until done, too big, or abandoned."""
        try:
            timeout = (min(CONNECT_TIMEOUT, self.timeout), self.timeout)
            with self.session.request(method, url, data=form or None, headers=headers,
                                      timeout=timeout, stream=True, cookies=cookies) as response:
                if cookies is not None:
                    for step in response.history + [response]:
                        cookies.update(step.cookies)
                body = bytearray()
                for chunk in response.iter_content(4096):
                    if abandoned.is_set():
                        return
                    body += chunk
                    if len(body) > self.max_bytes:
                        raise too_large(method, url)
                declared = "charset=" in response.headers.get("Content-Type", "").lower()
                encoding = response.encoding if declared else "utf-8"   # not text/*'s latin-1
                outcome["status"] = response.status_code
                outcome["body"] = bytes(body).decode(encoding, "replace")
        except FetchError as exc:
            outcome["error"] = exc
        except (requests.RequestException, LookupError) as exc:
            outcome["error"] = FetchError(f"{method} {url}: {exc.__class__.__name__}: {exc}")

    def close(self):
        self.session.close()
