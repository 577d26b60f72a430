"""Blocks that listen: Get customer input (GetParticipantInput) for digits or, with a bot, speech,
and ConnectParticipantWithLexBot.

How waiting works, and the simplifications:
- Digits (no bot): the prompt is spoken, then the block waits `InputTimeLimitSeconds` (default 5)
  for the first digit. Multi-digit entry (MaxDigits > 1, or StoreInput with a MaximumLength) ends
  at the limit, at the terminator ("#" unless DTMFConfiguration says otherwise), or after
  INTER_DIGIT_SECONDS without a key.
- Barge-in: digits and speech that arrive while our prompt is still playing are kept, and the
  block acts on them the moment the prompt ends, without waiting for a timeout. (The line cannot
  cut an utterance short, so the caller hears the prompt through; no timing is lost otherwise.)
- Lex: after the prompt, the block listens; the caller's utterance goes to `session.turn()`. While
  the bot is not done, its message is spoken and the block listens again. No speech within the
  start timeout (5 s, or the block's `x-amz-lex:audio:start-timeout-ms` session attribute) is
  `turn(None)`, and the bot decides what silence means. Fulfilled: the bot's conclusion is spoken
  and the condition whose operand is the intent is taken (NoMatchingCondition otherwise). Failed:
  the bot's abort message is spoken and NoMatchingError is taken (InputTimeLimitExceeded first,
  when the caller never spoke). DTMF is ignored in Lex blocks.
- A Lex block with no bot at all ends the call saying so: the runner refuses such a flow before
  the call (`missing_bot_error`), and a flow reached by transfer says it here.
"""
from app.errors import FlowError
from app.simulator.connect_blocks.prompts import prompt_text
from app.simulator.connect_flow import CATCH_ALL_ERROR, as_bool, as_number

DEFAULT_INPUT_SECONDS = 5
DEFAULT_LEX_START_SECONDS = 5
INTER_DIGIT_SECONDS = 3
STORED_INPUT_MAX_DIGITS = 20
MAX_LEX_TURNS = 20          # a bot that never finishes cannot hold the call forever
LEX_START_TIMEOUT = "x-amz-lex:audio:start-timeout-ms"


def get_input(leg, block):
    if block.is_lex:
        lex(leg, block)
        return
    leg.listen.mode = "dtmf"
    leg.prompt(prompt_text(block), lambda: _digits_prompt_done(leg))


# ---------------------------------------------------------------------- digits


def on_digit(leg, digit):
    """A DTMF digit from the caller, for whichever block is collecting digits."""
    listen = leg.listen
    if listen.mode != "dtmf":
        return
    limit, terminator, _ = limits(leg)
    if limit > 1 and digit in terminator:
        listen.terminated = True
    else:
        listen.digits += digit
    if not listen.prompting:
        _digit_received(leg)


def digit_limits(leg, block):
    """(most digits, terminator keys, seconds between digits) for an input block."""
    params = block.params
    validation = (params.get("InputValidation") or {}).get("CustomValidation") or {}
    dtmf = params.get("DTMFConfiguration") or {}
    default = STORED_INPUT_MAX_DIGITS if as_bool(params.get("StoreInput")) else 1
    limit = as_number(leg.value(params.get("MaxDigits") or validation.get("MaximumLength")))
    gap = leg.seconds(dtmf.get("InterdigitTimeLimitSeconds"), INTER_DIGIT_SECONDS)
    return int(limit or default), dtmf.get("InputTerminationSequence") or "#", gap


def limits(leg):
    """`digit_limits` of the block now collecting digits, read once per entry of the block
    (they are asked for at every digit; nothing the parameters refer to changes meanwhile)."""
    listen = leg.listen
    if listen.limits is None:
        listen.limits = digit_limits(leg, leg.block)
    return listen.limits


def _digits_prompt_done(leg):
    listen = leg.listen
    if listen.digits or listen.terminated:
        _digit_received(leg)
    else:
        block = leg.block
        timeout = leg.seconds(block.params.get("InputTimeLimitSeconds"), DEFAULT_INPUT_SECONDS)
        leg.wait(timeout, lambda: leg.error(block, "InputTimeLimitExceeded"))


def _digit_received(leg):
    listen = leg.listen
    limit, _, gap = limits(leg)
    if listen.terminated or len(listen.digits) >= limit:
        _digits_done(leg)
    else:
        leg.wait(gap, lambda: _digits_done(leg))


def _digits_done(leg):
    block = leg.block
    limit = limits(leg)[0]
    digits = leg.listen.digits[:limit]
    leg.reset_wait()
    if not digits:
        leg.error(block, "InputTimeLimitExceeded")
        return
    if as_bool(block.params.get("StoreInput")):
        leg.contact.stored_input = digits
    leg.route(block, digits)


# ---------------------------------------------------------------------- Lex


def missing_bot_error(flow, lex_bot):
    """A FlowError when `flow` talks to a Lex bot and none was given; None otherwise."""
    if lex_bot is not None:
        return None
    for block in flow.blocks.values():
        if block.is_lex:
            return FlowError(f"{flow.source}: block '{block.id}' ({block.source_type}) hands the caller to "
                             f"the Lex bot {block.lex_bot_name or '(unnamed)'}, but no bot was given: "
                             "pass --lex-bot PATH or set \"lexBot\" in the suite")
    return None


def lex(leg, block):
    bot = bot_for(leg.lex_bot, block)
    if bot is None:
        if leg.lex_bot is None:
            leg.finish(f"no Lex bot: block '{block.id}' ({block.source_type}) needs the bot "
                       f"{block.lex_bot_name or '(unnamed)'}; pass --lex-bot")
        else:
            leg.error(block, CATCH_ALL_ERROR)
        return
    leg.listen.mode = "speech"
    leg.listen.session = bot.new_session(attributes=dict(leg.contact.attributes))
    leg.prompt(prompt_text(block), lambda: _lex_listen(leg))


def bot_for(lex_bot, block):
    """`lex_bot` is one bot, or a dict of bots by name (V1 name or V2 alias ARN)."""
    bot = lex_bot
    if isinstance(bot, dict):
        bot = bot.get(block.lex_bot_name) or (next(iter(bot.values())) if len(bot) == 1 else None)
    return bot


def on_speech(leg, utterance):
    """The caller finished an utterance: a Lex turn now, or after our prompt ends."""
    listen = leg.listen
    if listen.mode != "speech":
        return
    if listen.prompting:
        listen.pending.append(utterance)
        return
    leg.cancel_timer()
    _lex_turn(leg, utterance)


def _lex_start_timeout(block):
    session = block.params.get("LexSessionAttributes") or {}
    for key, value in session.items():
        millis = as_number(value)
        if key.startswith(LEX_START_TIMEOUT) and millis is not None:
            return millis / 1000
    return DEFAULT_LEX_START_SECONDS


def _lex_listen(leg):
    listen = leg.listen
    if listen.pending:
        _lex_turn(leg, listen.pending.pop(0))
    elif not leg.caller_speaking:
        leg.wait(_lex_start_timeout(leg.block), lambda: _lex_turn(leg, None))


def _lex_turn(leg, utterance):
    block, listen = leg.block, leg.listen
    listen.turns += 1
    listen.spoke = listen.spoke or utterance is not None
    reply = listen.session.turn(utterance)
    leg.contact.lex_intent, leg.contact.lex_slots = reply.intent, dict(reply.slots or {})
    if reply.done or listen.turns >= MAX_LEX_TURNS:
        listen.mode = None
        spoke = listen.spoke
        leg.say(reply.message, lambda: _lex_result(leg, block, reply, spoke))
    else:
        leg.prompt(reply.message, lambda: _lex_listen(leg))


def _lex_result(leg, block, reply, spoke):
    if reply.state == "Fulfilled":
        leg.route(block, reply.intent)
    elif spoke:
        leg.error(block, CATCH_ALL_ERROR)
    else:
        leg.error(block, "InputTimeLimitExceeded")


HANDLERS = {
    "GetParticipantInput": get_input,
    "ConnectParticipantWithLexBot": lex,
}
