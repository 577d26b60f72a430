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

A request that gets no HTTP response at all (connection refused, timeout, malformed URL) raises
`FetchError`; a fetcher never returns status 0. The leg records either case as Twilio's error
11200 (HTTP retrieval failure).
"""
import io
import sys
from urllib.parse import urlencode, urlsplit

import requests
from twilio.request_validator import RequestValidator

USER_AGENT = "TwilioProxy/1.1"


class FetchError(Exception):
    """The request got no HTTP response (connection refused, timeout, malformed URL)."""


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
        return _call_wsgi(self.app, environ)


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
    """Call a WSGI app and collect (status code, body text)."""
    status = []
    chunks = app(environ, lambda code, headers, exc_info=None: status.append(code))
    try:
        body = b"".join(chunks)
    finally:
        if hasattr(chunks, "close"):
            chunks.close()
    return int(status[0].split(" ", 1)[0]), body.decode("utf-8", "replace")


class HttpFetcher:
    """Fetches TwiML over real HTTP with a `requests.Session` (keep-alive across requests).

    The full URL as requested is what gets signed. `timeout` (seconds) bounds both connecting and
    reading; Twilio's own limit is 15 s. Redirects (3xx) are followed, as Twilio follows them.
    """

    def __init__(self, auth_token=None, timeout=10, session=None):
        self.auth_token = auth_token
        self.timeout = timeout
        self.session = session or requests.Session()

    def __call__(self, method, url, params):
        method, url, form = _prepare(method, url, params)
        headers = {"User-Agent": USER_AGENT}
        if self.auth_token:
            headers["X-Twilio-Signature"] = sign(self.auth_token, url, form)
        try:
            response = self.session.request(method, url, data=form or None, headers=headers,
                                            timeout=self.timeout)
        except requests.RequestException as exc:
            raise FetchError(f"{method} {url}: {exc.__class__.__name__}: {exc}") from exc
        return response.status_code, response.text

    def close(self):
        self.session.close()
