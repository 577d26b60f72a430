"""`python main.py lex BOT "utterance" ...`: talk to a bot export and see why each turn went
where it went (intent, confidence, slots, dialog state, message, and the runner-up intents)."""
from __future__ import annotations

import json
import sys
from datetime import date

import click

from app.errors import IvrTestError
from app.simulator.lex.bot import LexBot
from app.simulator.lex.dialogue import spoken_words

NO_INPUT = "-"


@click.command("lex")
@click.argument("bot_path", metavar="BOT", type=click.Path())
@click.argument("utterances", nargs=-1, required=True)
@click.option("--locale", help="V2 locale to load (default en_US, else the first).")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The call's date, for dates like 'tomorrow' (default: today).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per turn.")
def lex_command(bot_path, utterances, locale, today, as_json):
    """Play UTTERANCES to the Lex bot export BOT, one turn each ('-' is silence)."""
    try:
        bot = LexBot.load(bot_path, locale=locale)
    except IvrTestError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    day = today.date() if today else date.today()
    session = bot.new_session(today=day)
    if not as_json:
        click.echo(f"{bot.name} ({bot.version}, {bot.locale}): {len(bot.intents)} intents, "
                   f"confidence threshold {bot.confidence_threshold}, date {day.isoformat()}")
    for number, said in enumerate(utterances, 1):
        utterance = None if said == NO_INPUT else said
        ranked = bot.interpretations(spoken_words(utterance), session.context) \
            if utterance and session.expects_intent else []
        reply = session.turn(utterance)
        turn = {"turn": number, "said": utterance, "state": reply.state, "intent": reply.intent,
                "confidence": reply.confidence, "slots": reply.slots, "message": reply.message,
                "interpretations": [{"intent": i.intent.name, "confidence": i.confidence}
                                    for i in ranked[:3]]}
        click.echo(json.dumps(turn) if as_json else _describe(turn))


def _describe(turn) -> str:
    said = turn["said"] if turn["said"] is not None else "(silence)"
    confidence = f" (confidence {turn['confidence']:.2f})" if turn["confidence"] is not None else ""
    lines = [f"{turn['turn']}. caller: {said}",
             f"   state: {turn['state']}   intent: {turn['intent'] or '-'}{confidence}",
             f"   slots: {json.dumps(turn['slots']) if turn['slots'] else '-'}",
             f"   bot: {turn['message'] if turn['message'] is not None else '(nothing)'}"]
    if turn["interpretations"]:
        ranked = ", ".join(f"{i['intent']} {i['confidence']:.2f}" for i in turn["interpretations"])
        lines.append(f"   candidates: {ranked}")
    return "\n".join(lines)
