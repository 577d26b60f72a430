"""The offline caller's fast path: our own webhooks called as functions, their TwiML parsed once.

Offline, the caller's leg runs our webhooks in this process. The full round trip (`--wire`,
`FlaskFetcher`) builds a WSGI environ, form-encodes the call's parameters, signs them, has Flask
parse and check them, renders the engine's reply as TwiML with the twilio library and parses that
XML back into verbs, on every request. All of that is ours on both ends, so this path skips it:

- `DirectFetcher` calls the same `RunManager` methods the views in `app/webhooks.py` call, with
  the same arguments (the query string's `run`/`step`/`silence`, the form's fields as the strings
  Flask would decode). Signatures are not computed: we would check a signature we just made.
- The reply's TwiML is rendered by `app.webhooks.render` itself, once per distinct engine `Reply`,
  with a placeholder run id, and parsed once; each call gets that document with its run id put
  back (`TwimlCache`). `DirectTwimlLeg` takes the parsed verbs instead of re-parsing the XML.

Anything outside that known shape (another host or path, a GET, an odd CallSid or step, a body
Flask would refuse as too large, a run id that needs URL quoting) goes through the full
`FlaskFetcher` round trip instead, so the fast path never answers what it does not model.
`tests/test_direct.py` plays every suite in the repository both ways and requires identical
stored runs and transcripts.
"""
import re
import xml.etree.ElementTree as ET
from urllib.parse import parse_qsl, urlsplit

from app import MAX_REQUEST_BYTES, twiml, webhooks
from app.simulator.twiml_leg import TwimlLeg

_RUN_ID = re.compile(r"^[A-Za-z0-9]{1,64}$")   # ids url_for writes unquoted (ours are uuid hex)
PLACEHOLDER = "RUNIDPLACEHOLDER"               # survives url_for and XML escaping unchanged


class Document(str):
    """A TwiML document's text that also carries its verbs, already parsed."""

    def __new__(cls, text, verbs):
        document = super().__new__(cls, text)
        document.verbs = verbs
        return document


class DirectTwimlLeg(TwimlLeg):
    """The caller's leg on the fast path, with a `DirectFetcher`: a `Document` is used as
    parsed; any other body (the wire fallback's XML) is parsed as TwimlLeg always does. The
    leg's fixed parameters are checked as a form once (`FixedForm`), not on every request."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fixed_form = FixedForm(self.params)

    def send(self, method, url, params, own):
        return self.fetch.from_leg(method, url, params, self.fixed_form, own)

    def _parse(self, body, url):
        verbs = getattr(body, "verbs", None)
        return list(verbs) if verbs is not None else super()._parse(body, url)

    def resolve(self, url):
        """As TwimlLeg's, without urljoin for the URLs our webhooks write: a plain absolute path
        ("/gather?run=..."), which replaces the document URL's path and query."""
        if url and url[0] == "/" and url[:2] != "//" and "/." not in url and "#" not in url:
            base = self.document_url
            scheme_end = base.find("://")
            if scheme_end > 0:
                host_end = base.find("/", scheme_end + 3)
                host = base if host_end < 0 else base[:host_end]
                if "?" not in host and "#" not in host:
                    return host + url
        return super().resolve(url)


class TwimlCache:
    """TwiML for engine replies, rendered by the webhooks' own `render` once per distinct reply."""

    def __init__(self, app):
        self.app = app
        self._templates = {}       # Reply fields -> (xml text, verbs as _Verb, whether the run id appears)
        self._hangup = None

    def reply(self, reply, run_id):
        key = (reply.actions, reply.listen, reply.timeout, reply.hangup)   # Reply's fields: its
        template = self._templates.get(key)      # equality, without its Python __hash__/__eq__
        if template is None:
            template = self._templates[key] = self._render(reply)
        text, verbs, has_run = template
        if not has_run:
            return Document(text, [verb.element for verb in verbs])
        return Document(text.replace(PLACEHOLDER, run_id), [verb.with_run(run_id) for verb in verbs])

    def hangup(self):
        if self._hangup is None:
            text = twiml.hangup()
            self._hangup = Document(text, list(ET.fromstring(text)))
        return self._hangup

    def _render(self, reply):
        with self.app.test_request_context("/"):
            text = webhooks.render(reply, PLACEHOLDER).get_data(as_text=True)
        return text, [_Verb(element) for element in ET.fromstring(text)], PLACEHOLDER in text


class _Verb:
    """A parsed verb of a template, and which of its parts hold the run id placeholder: verbs
    without one (Play, Say, Hangup) are shared as they are, since no handler changes a verb."""

    __slots__ = ("element", "dynamic", "keys", "children")

    def __init__(self, element):
        self.element = element
        self.keys = tuple(key for key, value in element.attrib.items() if PLACEHOLDER in value)
        self.children = [_Verb(child) for child in element]
        self.dynamic = bool(self.keys or PLACEHOLDER in (element.text or "")
                            or any(child.dynamic for child in self.children))

    def with_run(self, run_id):
        """The verb with `run_id` for the placeholder (a copy, when it holds one)."""
        element = self.element
        if not self.dynamic:
            return element
        attrib = dict(element.attrib)
        for key in self.keys:
            attrib[key] = attrib[key].replace(PLACEHOLDER, run_id)
        copy = ET.Element(element.tag, attrib)
        copy.text = element.text.replace(PLACEHOLDER, run_id) if element.text else element.text
        copy.tail = element.tail
        copy.extend(child.with_run(run_id) for child in self.children)
        return copy


class DirectFetcher:
    """A fetcher (see app/simulator/fetch.py) that answers our webhooks by calling the run
    manager directly; `wire` (a FlaskFetcher) answers everything else."""

    def __init__(self, app, public_url, wire):
        self.app, self.wire = app, wire
        self.auth_token = getattr(wire, "auth_token", None)    # what requests over the wire are signed with
        self.runs = app.extensions["runs"]
        self.twiml = TwimlCache(app)
        parts = urlsplit(public_url)
        self.prefix = f"{parts.scheme}://{parts.netloc}"
        # A character of a form field is at most 12 bytes of the encoded body ("%F0%9F%98%80").
        self.max_form_chars = MAX_REQUEST_BYTES // 12
        self._routes = {"/voice": self._voice, "/gather": self._gather,
                        "/partial": self._partial, "/status": self._status}

    def __call__(self, method, url, params):
        form = _as_form(params)
        if not _fits(form, self.max_form_chars) or not webhooks._SID.fullmatch(form.get("CallSid", "")):
            form = None
        return self._answer(method, url, params, form)

    def from_leg(self, method, url, params, fixed, own):
        """As calling the fetcher, for `params` that a DirectTwimlLeg made of its `fixed` form
        (checked once per leg) and `own`: only `own` is checked here (~100k instructions a call)."""
        return self._answer(method, url, params, params if fixed.admits(own, self.max_form_chars) else None)

    def _answer(self, method, url, params, form):
        """The handler's answer to a request whose `form` is what Flask would decode (None: a
        form the view would refuse, or too large to decode); anything else over the wire."""
        path, query = _path_and_query(url, self.prefix)
        handler = self._routes.get(path)
        if handler is None or form is None or (method != "POST" and (method or "POST").upper() != "POST"):
            return self.wire(method, url, params)
        answer = handler(_args(query), form)
        return self.wire(method, url, params) if answer is None else answer

    # Each handler mirrors its view in app/webhooks.py; None sends the request over the wire.

    def _voice(self, args, form):
        run_id = args.get("run")
        if not _RUN_ID.match(run_id or ""):
            return None
        answered = self.runs.answer(form["CallSid"], run_id)
        if answered is None:
            return self._unknown("call %s: no queued suite and no run %r; hanging up", form["CallSid"], run_id)
        return 200, self.twiml.reply(answered[1], answered[0])

    def _gather(self, args, form):
        run_id, step = args.get("run", ""), _step(args)
        if step is None or not _RUN_ID.match(run_id):
            return None
        sid, speech = form["CallSid"], form.get("SpeechResult")
        if speech is not None and not args.get("silence"):
            reply = self.runs.hear(run_id, sid, step, speech, form.get("Confidence"))
        else:
            reply = self.runs.silence(run_id, sid, step)
        if reply is None:
            return self._unknown("gather for unknown call %s (run %r); hanging up", sid, run_id)
        return 200, self.twiml.reply(reply, run_id)

    def _partial(self, args, form):
        run_id, step = args.get("run", ""), _step(args)
        if step is None:
            return None
        text = form.get("StableSpeechResult") or form.get("UnstableSpeechResult") or ""
        if not self.runs.partial(run_id, form["CallSid"], step, text):
            self.app.logger.warning("partial result for unknown call %s (run %r)", form["CallSid"], run_id)
        return 200, twiml.empty()      # as webhooks.acknowledged

    def _status(self, args, form):
        if not self.runs.call_status(form["CallSid"], form.get("CallStatus", ""), args.get("run")):
            return self._unknown("status %r for unknown call %s", form.get("CallStatus", ""), form["CallSid"])
        return 200, twiml.empty()      # as webhooks.acknowledged

    def _unknown(self, message, *args):
        self.app.logger.warning(message, *args)
        return 200, self.twiml.hangup()


def _path_and_query(url, prefix):
    """(path, query) of a URL on our own host; (None, None) for anything else."""
    if not url.startswith(prefix) or "#" in url:
        return None, None
    path, _, query = url[len(prefix):].partition("?")
    return (path, query) if path.startswith("/") else (None, None)


def _args(query):
    """The query string as Flask's `request.args.get` reads it (the first of repeated keys)."""
    args = {}
    if "%" in query or "+" in query or ";" in query:
        for key, value in parse_qsl(query, keep_blank_values=True):
            args.setdefault(key, value)
        return args
    for pair in query.split("&"):
        if pair:
            key, _, value = pair.partition("=")
            if key not in args:
                args[key] = value
    return args


def _step(args):
    """The query's step as the view reads it, or None where the view would answer 400."""
    try:
        return int(args.get("step", ""))
    except ValueError:
        return None


def _as_form(params):
    """The parameters as the strings Flask would decode from the form: the leg's own dict when
    it holds only strings already (it always does), read as it is, never changed."""
    if params and {*map(type, params), *map(type, params.values())} == _TEXT:
        return params
    return {str(key): str(value) for key, value in (params or {}).items()}


_TEXT = {str}


def _fits(form, max_chars):
    """Whether the form, encoded, could be over the webhooks' request size limit (Flask would
    answer 413): then the request goes over the wire to get that answer."""
    return _chars(form) <= max_chars


def _chars(form):
    """The characters of a form of strings, as `_fits` counts them (a separator per field)."""
    return len("".join(form)) + len("".join(form.values())) + 2 * len(form)


class FixedForm:
    """A leg's fixed parameters (CallSid, From, To, ...), checked once as `DirectFetcher` checks
    a form: `chars` is their share of the size limit, or None when they are not a form the fast
    path answers (not all strings, or no valid CallSid)."""

    def __init__(self, params):
        valid = _as_form(params) is params and webhooks._SID.fullmatch(params.get("CallSid", ""))
        self.params, self.chars = params, _chars(params) if valid else None

    def admits(self, own, max_chars):
        """Whether these parameters with `own` (strings too, none of them a fixed one) are a form
        `DirectFetcher` answers: what `_as_form`, `_fits` and the CallSid check would say."""
        chars, fixed = self.chars, self.params
        if chars is None:
            return False
        for key, value in own.items():      # one to four fields: a loop is the cheapest check
            if type(key) is not str or type(value) is not str or key in fixed:
                return False
            chars += len(key) + len(value) + 2
        return chars <= max_chars
