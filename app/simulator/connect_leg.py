"""The IVR side of a virtual call: an Amazon Connect flow played block by block on a `Line`.

Offline, nobody runs the customer's Connect instance, so this plays it: it speaks the flow's
prompts, waits for digits or speech the way Connect waits, hands speech to a Lex stand-in, and
follows the branch Connect would follow. Every wait is a timer on the virtual clock.

How waiting works, and the simplifications:
- Digits (GetParticipantInput without a bot): the prompt is spoken, then the block waits
  `InputTimeLimitSeconds` (default 5) for the first digit. Multi-digit entry (MaxDigits > 1, or
  StoreInput with a MaximumLength) ends at the limit, at the terminator ("#" unless
  DTMFConfiguration says otherwise), or after INTER_DIGIT_SECONDS without a key.
- Barge-in: digits and speech that arrive while our prompt is still playing are kept, and the
  block acts on them the moment the prompt ends, without waiting for a timeout. (The line cannot
  cut an utterance short, so the caller hears the prompt through; no timing is lost otherwise.)
- Lex (ConnectParticipantWithLexBot, or an input block with LexBot/LexV2Bot): after the prompt,
  the block listens; the caller's utterance goes to `session.turn()`. While the bot is not done,
  its message is spoken and the block listens again. No speech within the start timeout (5 s,
  or the block's `x-amz-lex:audio:start-timeout-ms` session attribute) is `turn(None)`, and the
  bot decides what silence means. Fulfilled: the bot's conclusion is spoken and the condition
  whose operand is the intent is taken (NoMatchingCondition otherwise). Failed: the bot's abort
  message is spoken and NoMatchingError is taken (InputTimeLimitExceeded first, when the caller
  never spoke). DTMF is ignored in Lex blocks.
- Branch fallbacks: an error without its own branch takes NoMatchingError (Connect's catch-all);
  with neither, the call ends with outcome "error: ...". A transition to nothing ends the call as
  Connect does, "disconnected".
- `max_blocks` bounds a flow that loops forever (without waiting for the caller): the call ends
  with outcome "block limit reached".
"""
import re

from app.simulator.connect_flow import CATCH_ALL_ERROR, SUCCESS, as_bool, as_number, error_label
from app.simulator.line import Endpoint

DEFAULT_INPUT_SECONDS = 5
DEFAULT_LEX_START_SECONDS = 5
INTER_DIGIT_SECONDS = 3
STORED_INPUT_MAX_DIGITS = 20
MAX_LEX_TURNS = 20          # a bot that never finishes cannot hold the call forever
LEX_START_TIMEOUT = "x-amz-lex:audio:start-timeout-ms"

_REFERENCE = re.compile(r"\$\.(Attributes|External|Lex\.Slots|Lex\.SessionAttributes)\.([\w-]+)"
                        r"|\$\.(Lex\.IntentName|StoredCustomerInput|Queue\.Name|Queue\.ARN)")


def queue_name(queue_id):
    """A readable name for a queue reference: the last segment of an ARN or `queue/NAME` path."""
    return str(queue_id).rstrip("/").split("/")[-1]


def lambda_name(arn):
    """`arn:aws:lambda:region:acct:function:NAME[:alias]` -> NAME; anything else unchanged."""
    arn = str(arn)
    return arn.split(":function:", 1)[1].split(":")[0] if ":function:" in arn else arn


class _Listen:
    """What the current block is waiting for; a fresh one replaces it whenever a block starts."""

    def __init__(self):
        self.mode = None          # None, "dtmf" or "speech"
        self.prompting = False    # our prompt is still playing (barge-in input is kept for later)
        self.digits = ""
        self.terminated = False
        self.pending = []         # utterances heard while our prompt played
        self.session = None
        self.turns = 0
        self.spoke = False


class ConnectFlowLeg(Endpoint):
    """Plays `flow` as the IVR party on `line`; records coverage and how the call ended."""

    def __init__(self, clock, line, flow, lex_bot=None, lambda_responses=None, hours_open=True,
                 attributes=None, name="ivr", max_blocks=1000):
        self.clock, self.line, self.flow, self.name = clock, line, flow, name
        self.lex_bot, self.hours_open, self.max_blocks = lex_bot, hours_open, max_blocks
        self.lambda_responses = dict(lambda_responses or {})
        self.attributes = dict(attributes or {})
        self.external, self.lex_intent, self.lex_slots = {}, None, {}
        self.stored_input, self.queue, self.queue_id = None, None, None
        self.voice, self.logging = None, None
        self.visited_blocks, self.taken_branches = set(), set()
        self.outcome, self.blocks_run = None, 0
        self._loops, self._block, self._timer, self._step = {}, None, None, 0
        self._listen, self._caller_speaking = _Listen(), False

    # ------------------------------------------------------------------ line events

    def on_connect(self):
        self._enter(self.flow.start)

    def on_hangup(self, reason):
        if self._done:
            return
        self._reset_wait()
        by_network = self.line.ended_by is None
        self.outcome = f"call ended: {reason}" if by_network else "caller hung up"

    def on_dtmf(self, digit):
        listen = self._listen
        if self._done or listen.mode != "dtmf":
            return
        limit, terminator, _ = self._digit_limits(self._block)
        if limit > 1 and digit in terminator:
            listen.terminated = True
        else:
            listen.digits += digit
        if not listen.prompting:
            self._digit_received()

    def on_speech_start(self):
        self._caller_speaking = True
        if self._listen.mode == "speech":
            self._cancel_timer()

    def on_speech_end(self, transcript, confidence):
        self._caller_speaking = False
        listen = self._listen
        if self._done or listen.mode != "speech":
            return
        utterance = (transcript or "").strip() or None
        if listen.prompting:
            listen.pending.append(utterance)
            return
        self._cancel_timer()
        self._lex_turn(utterance)

    # ------------------------------------------------------------------ stepping through blocks

    @property
    def _done(self):
        return self.outcome is not None

    def _enter(self, block_id):
        if self._done:
            return
        self._reset_wait()
        if self.blocks_run >= self.max_blocks:
            self._finish("block limit reached")
            return
        block = self._block = self.flow.blocks[block_id]
        self.blocks_run += 1
        self.visited_blocks.add(block_id)
        getattr(self, _HANDLERS[block.type])(block)

    def _take(self, block, label, target):
        """Follow one branch; the next block starts as its own event, so loops never recurse."""
        if self._done:
            return
        if target is None:
            self._finish("disconnected")
            return
        self.taken_branches.add((block.id, label, target))
        self._reset_wait()
        self.clock.call_later(0, self._enter, target)

    def _next(self, block):
        self._take(block, SUCCESS, block.next)

    def _route(self, block, value):
        """Take the first condition `value` passes; NoMatchingCondition if there were some."""
        for condition in block.conditions:
            if condition.matches(value):
                self._take(block, condition.label, condition.target)
                return
        if block.conditions:
            self._error(block, "NoMatchingCondition")
        else:
            self._next(block)

    def _error(self, block, *kinds):
        for kind in (*kinds, CATCH_ALL_ERROR):
            if kind in block.errors:
                self._take(block, error_label(kind), block.errors[kind])
                return
        self._finish(f"error: block '{block.id}' ({block.source_type}) has no branch for {kinds[0]}")

    def _finish(self, outcome):
        """End the call from the IVR side; the hangup reason is the outcome."""
        if self._done:
            return
        self.outcome = outcome
        self._reset_wait()
        self.line.hangup(self, outcome)

    # ------------------------------------------------------------------ timers and speech

    def _reset_wait(self):
        """Forget the current wait: callbacks scheduled for it will find the step has moved on."""
        self._step += 1
        self._cancel_timer()
        self._listen = _Listen()

    def _cancel_timer(self):
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _guard(self, fn):
        step = self._step

        def run(*args):
            if not self._done and self._step == step:
                fn(*args)
        return run

    def _wait(self, seconds, fn):
        self._cancel_timer()
        self._timer = self.clock.call_later(seconds, self._guard(fn))

    def _say(self, text, then):
        """Speak `text` (references filled in), then call `then`; nothing to say calls it now."""
        then = self._guard(then)
        text = self._text(text or "")
        if text.strip():
            self.line.say(self, text, on_done=then)
        else:
            self.clock.call_later(0, then)

    def _prompt(self, text, then):
        """Speak a prompt the caller may barge in on."""
        listen = self._listen
        listen.prompting = True

        def done():
            listen.prompting = False
            then()
        self._say(text, done)

    # ------------------------------------------------------------------ values

    def _lookup(self, namespace, key=None):
        """One reference's value, or None when nothing is stored under it."""
        stores = {"Attributes": self.attributes, "External": self.external, "Lex.Slots": self.lex_slots,
                  "Lex.SessionAttributes": {}}
        if namespace in stores:
            return stores[namespace].get(key)
        return {"Lex.IntentName": self.lex_intent, "StoredCustomerInput": self.stored_input,
                "Queue.Name": self.queue, "Queue.ARN": self.queue_id}[namespace]

    def _text(self, text):
        """Fill `$.Attributes.x`, `$.External.x`, `$.Lex.Slots.x`, ... into text; unknown -> ""."""
        def fill(match):
            value = self._lookup(match.group(1) or match.group(3), match.group(2))
            return "" if value is None else str(value)
        return _REFERENCE.sub(fill, str(text))

    def _value(self, ref):
        """A parameter's value: a whole reference keeps None for "not set", text is filled in."""
        if ref is None:
            return None
        match = _REFERENCE.fullmatch(str(ref).strip())
        if match:
            return self._lookup(match.group(1) or match.group(3), match.group(2))
        return self._text(ref)

    def _seconds(self, ref, default):
        seconds = as_number(self._value(ref))
        return seconds if seconds is not None and seconds >= 0 else default

    @staticmethod
    def _prompt_text(block):
        return block.params.get("Text") or block.params.get("SSML") or ""

    # ------------------------------------------------------------------ simple blocks

    def _message(self, block):
        self._say(self._prompt_text(block), lambda: self._next(block))

    def _set_voice(self, block):
        self.voice = self._value(block.params.get("TextToSpeechVoice"))
        self._next(block)

    def _set_logging(self, block):
        self.logging = self._value(block.params.get("FlowLoggingBehavior"))
        self._next(block)

    def _continue(self, block):
        self._next(block)

    def _disconnect(self, block):
        self._finish("disconnected")

    def _update_attributes(self, block):
        for key, value in (block.params.get("Attributes") or {}).items():
            resolved = self._value(value)
            self.attributes[key] = "" if resolved is None else str(resolved)
        self._next(block)

    def _compare(self, block):
        self._route(block, self._value(block.params.get("ComparisonValue")))

    def _loop(self, block):
        """Connect's Loop: ContinueLooping LoopCount times, then DoneLooping once, then reset."""
        count = as_number(self._value(block.params.get("LoopCount")))
        if count is None:
            self._error(block, CATCH_ALL_ERROR)
            return
        done = self._loops.get(block.id, 0)
        self._loops[block.id] = done + 1 if done < count else 0
        self._route(block, "ContinueLooping" if done < count else "DoneLooping")

    def _check_hours(self, block):
        hours = block.params.get("HoursOfOperationId")
        is_open = self.hours_open(hours) if callable(self.hours_open) else as_bool(self.hours_open)
        self._route(block, "True" if is_open else "False")

    def _set_queue(self, block):
        queue_id = self._value(block.params.get("QueueId"))
        if not queue_id:
            self._error(block, CATCH_ALL_ERROR)
            return
        self.queue_id = str(queue_id)
        self.queue = block.params.get("QueueName") or queue_name(queue_id)
        self._next(block)

    def _transfer(self, block):
        """Transfer ends the simulated call: the caller is in a queue, and nothing more is said."""
        queue_id = self._value(block.params.get("QueueId"))
        if queue_id:
            self.queue_id, self.queue = str(queue_id), queue_name(queue_id)
        if not self.queue:
            self._error(block, CATCH_ALL_ERROR)
            return
        self._finish(f"transferred to queue {self.queue}")

    def _invoke_lambda(self, block):
        response = self._lambda_response(block)
        if not isinstance(response, dict):
            self._error(block, CATCH_ALL_ERROR)
            return
        self.external = {str(key): value for key, value in response.items()}
        self._next(block)

    def _lambda_response(self, block):
        """The configured answer for the block's function (by ARN or by name); None = failure.

        An answer may be a dict, or a callable taking the resolved LambdaFunctionParameters; a
        callable that raises is a failed invocation, as a crashing Lambda is to Connect.
        """
        arn = str(self._value(block.params.get("LambdaFunctionARN")) or "")
        answer = self.lambda_responses.get(arn, self.lambda_responses.get(lambda_name(arn)))
        if not callable(answer):
            return answer
        params = {key: self._value(value) for key, value in
                  (block.params.get("LambdaFunctionParameters") or {}).items()}
        try:
            return answer(params)
        except Exception:  # noqa: BLE001 - any failure of the stand-in is the Error branch
            return None

    # ------------------------------------------------------------------ digits

    def _get_input(self, block):
        if block.is_lex:
            self._lex(block)
            return
        self._listen.mode = "dtmf"
        self._prompt(self._prompt_text(block), self._digits_prompt_done)

    def _digit_limits(self, block):
        """(most digits, terminator keys, seconds between digits) for an input block."""
        params = block.params
        validation = (params.get("InputValidation") or {}).get("CustomValidation") or {}
        dtmf = params.get("DTMFConfiguration") or {}
        default = STORED_INPUT_MAX_DIGITS if as_bool(params.get("StoreInput")) else 1
        limit = as_number(self._value(params.get("MaxDigits") or validation.get("MaximumLength")))
        gap = self._seconds(dtmf.get("InterdigitTimeLimitSeconds"), INTER_DIGIT_SECONDS)
        return int(limit or default), dtmf.get("InputTerminationSequence") or "#", gap

    def _digits_prompt_done(self):
        listen = self._listen
        if listen.digits or listen.terminated:
            self._digit_received()
        else:
            timeout = self._seconds(self._block.params.get("InputTimeLimitSeconds"), DEFAULT_INPUT_SECONDS)
            self._wait(timeout, lambda: self._error(self._block, "InputTimeLimitExceeded"))

    def _digit_received(self):
        listen = self._listen
        limit, _, gap = self._digit_limits(self._block)
        if listen.terminated or len(listen.digits) >= limit:
            self._digits_done()
        else:
            self._wait(gap, self._digits_done)

    def _digits_done(self):
        block = self._block
        limit = self._digit_limits(block)[0]
        digits = self._listen.digits[:limit]
        self._reset_wait()
        if not digits:
            self._error(block, "InputTimeLimitExceeded")
            return
        if as_bool(block.params.get("StoreInput")):
            self.stored_input = digits
        self._route(block, digits)

    # ------------------------------------------------------------------ Lex

    def _lex(self, block):
        bot = self._bot_for(block)
        if bot is None:
            self._error(block, CATCH_ALL_ERROR)
            return
        self._listen.mode = "speech"
        self._listen.session = bot.new_session(attributes=dict(self.attributes))
        self._prompt(self._prompt_text(block), self._lex_listen)

    def _bot_for(self, block):
        """`lex_bot` is one bot, or a dict of bots by name (V1 name or V2 alias ARN)."""
        bot = self.lex_bot
        if isinstance(bot, dict):
            bot = bot.get(block.lex_bot_name) or (next(iter(bot.values())) if len(bot) == 1 else None)
        return bot

    def _lex_start_timeout(self, block):
        session = block.params.get("LexSessionAttributes") or {}
        for key, value in session.items():
            millis = as_number(value)
            if key.startswith(LEX_START_TIMEOUT) and millis is not None:
                return millis / 1000
        return DEFAULT_LEX_START_SECONDS

    def _lex_listen(self):
        listen = self._listen
        if listen.pending:
            self._lex_turn(listen.pending.pop(0))
        elif not self._caller_speaking:
            self._wait(self._lex_start_timeout(self._block), lambda: self._lex_turn(None))

    def _lex_turn(self, utterance):
        block, listen = self._block, self._listen
        listen.turns += 1
        listen.spoke = listen.spoke or utterance is not None
        reply = listen.session.turn(utterance)
        self.lex_intent, self.lex_slots = reply.intent, dict(reply.slots or {})
        if reply.done or listen.turns >= MAX_LEX_TURNS:
            listen.mode = None
            spoke = listen.spoke
            self._say(reply.message, lambda: self._lex_result(block, reply, spoke))
        else:
            self._prompt(reply.message, self._lex_listen)

    def _lex_result(self, block, reply, spoke):
        if reply.state == "Fulfilled":
            self._route(block, reply.intent)
        elif spoke:
            self._error(block, CATCH_ALL_ERROR)
        else:
            self._error(block, "InputTimeLimitExceeded")


_HANDLERS = {
    "MessageParticipant": "_message", "GetParticipantInput": "_get_input",
    "ConnectParticipantWithLexBot": "_lex", "UpdateContactAttributes": "_update_attributes",
    "Compare": "_compare", "Loop": "_loop", "UpdateContactTextToSpeechVoice": "_set_voice",
    "UpdateFlowLoggingBehavior": "_set_logging", "UpdateContactRecordingBehavior": "_continue",
    "DisconnectParticipant": "_disconnect", "UpdateContactTargetQueue": "_set_queue",
    "TransferContactToQueue": "_transfer", "InvokeLambdaFunction": "_invoke_lambda",
    "CheckHoursOfOperation": "_check_hours",
}
