"""The realistic recognizer errs only as telephone speech-to-text does, and its noise depends on
the suite's content and the seed, never on where the suite file lives."""
import json
import random
import re
import shutil

import pytest

from app.numbers import NUMBER_WORDS, ORDINAL_WORDS, SCALES
from app.runner import Job, OfflineRunner
from app.simulator.recognizer import (COMPOUNDS, CONTRACTIONS, HOMOPHONE_ERRORS, Recognizer, _Hearing,
                                      suite_noise_key)
from app.spoken import strip_markup
from app.suite import load_suite, load_suites
from app.targets import resolve_target
from tests.calibration import load_pairs

PROMPTS = [pair.said for pair in load_pairs()]
WORD = re.compile(r"[a-z']+")


def vocabulary(text):
    """Every word the recognizer may write for `text`: its own words and their other forms."""
    words = {w.strip("'") for w in WORD.findall(text.lower().replace("-", " "))}
    words |= set(NUMBER_WORDS) | set(ORDINAL_WORDS) | set(SCALES) | {"hundred", "and", "oh"}
    words |= {"dollar", "dollars", "cents", "am", "pm", "a", "p", "m", "pound", "star", "at", "plus"}
    words |= {w for forms in HOMOPHONE_ERRORS.values() for w in forms}
    words |= {w for pair in list(CONTRACTIONS.items()) + list(COMPOUNDS.items()) for side in pair
              for w in side.split()}
    return words


@pytest.mark.parametrize("seed", range(0, 20, 3))
def test_only_whole_words_never_a_non_word(seed):
    for text in PROMPTS:
        heard, confidence = Recognizer("realistic", seed, error_rate=1.0).transcribe(text, key="k")
        assert heard == heard.lower() and not re.search(r"[,;!?\"]|\.(?!\d)", heard), heard
        allowed = vocabulary(re.sub(r"<[^>]+>", " ", text))
        strange = [w.strip("'") for w in WORD.findall(re.sub(r"\d+(st|nd|rd|th)\b", "", heard)) if w.strip("'") not in allowed]
        assert not strange, (text, heard)
        assert 0.75 <= confidence <= 0.97


def test_the_errors_it_makes():
    heard = {Recognizer("realistic", s).transcribe(
        "Um, press 1 for sales. You cannot leave a voicemail. Your PIN is 0423 and the fee is $5.", key="k")[0]
        for s in range(40)}
    joined = " | ".join(heard)
    for form in (" one ", " 1 ", " four sales", "can't", "cannot", "voice mail", "voicemail",
                 "zero four two three", "0423", "five dollars", "$5"):
        assert form in joined, form
    assert not any("um" in h.split() for h in heard)


def test_noise_is_deterministic_and_varies_with_seed_and_key():
    text = "Hello, and welcome to the awesome phone center, press one for sales."
    first = Recognizer("realistic", seed=7).transcribe(text, key="a:1")
    assert first == Recognizer("realistic", seed=7).transcribe(text, key="a:1")
    assert len({Recognizer("realistic", seed=s).transcribe(text, key="a:1")[0] for s in range(30)}) > 1
    assert len({Recognizer("realistic", seed=7).transcribe(text, key=f"a:{n}")[0] for n in range(30)}) > 1


def test_the_noise_key_is_the_suite_content_not_its_path(tmp_path):
    original = load_suite("testSuite/testSalesCall.json")
    (tmp_path / "deep" / "er").mkdir(parents=True)
    copy = tmp_path / "deep" / "er" / "renamed.json"
    shutil.copy("testSuite/testSalesCall.json", copy)
    assert suite_noise_key(load_suite(copy)) == suite_noise_key(original)
    changed = json.loads(copy.read_text())
    changed[1]["then"] = "say=grace hopper"
    copy.write_text(json.dumps(changed))
    assert suite_noise_key(load_suite(copy)) != suite_noise_key(original)


def play(store, paths, seed):
    suites = [load_suite(p) for p in paths]
    jobs = [Job(s, resolve_target(suite_target=s.target)) for s in suites]
    return OfflineRunner(store, seed=seed).run(jobs).documents


def heard_and_verdicts(doc):
    return ([(r["actualResult"], r["status"], r["score"]) for r in doc["results"]],
            [e.get("heard") for e in doc["transcript"]])


@pytest.mark.parametrize("seed", [0, 5, 13])
def test_a_suite_gives_the_same_verdict_from_any_path(store, tmp_path, monkeypatch, seed):
    names = ["menuRetry.json", "salesNotUnderstood.json"]
    here = play(store, [f"testSuite/{n}" for n in names], seed)
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    for n in names:
        shutil.copy(f"testSuite/{n}", elsewhere / f"copy_of_{n}")
    shutil.copytree("aws-connect-contact-flows", tmp_path / "aws-connect-contact-flows")
    shutil.copytree("aws-lex-bot", tmp_path / "aws-lex-bot")
    monkeypatch.chdir(tmp_path)
    there = play(store, [f"./somewhere/else/copy_of_{n}" for n in names], seed)
    assert [heard_and_verdicts(d) for d in here] == [heard_and_verdicts(d) for d in there]
    assert all(d["status"] == "complete" for d in here + there)


def test_sample_suites_pass_at_seeds_0_to_19(store):
    suites, errors = load_suites(["testSuite"])
    assert not errors and len(suites) == 5
    jobs = [Job(s, resolve_target(suite_target=s.target)) for s in suites]
    for seed in range(20):
        docs = OfflineRunner(store, seed=seed).run(jobs).documents
        failed = [(d["file"], [r.get("diff") for r in d["results"]]) for d in docs if d["status"] != "complete"]
        assert not failed, (seed, failed)


def test_the_transcript_keeps_what_each_side_heard(store):
    (doc,) = play(store, ["testSuite/salesFavoriteProgrammer.json"], seed=3)
    said = [e for e in doc["transcript"] if e["kind"] == "say"]
    caller = [e for e in said if e["party"] == "caller"]
    assert caller and all(e["heard"] == e["text"].lower() for e in caller)   # a name, no numbers
    assert all(e["heard"] and e["heard"] == e["heard"].lower() for e in said)


def test_the_console_shows_how_the_ivr_heard_the_caller():
    from app.report import describe_entry
    entry = {"party": "caller", "kind": "say", "text": "My PIN is 1234", "heard": "my pin is one two three four"}
    assert describe_entry(entry) == 'Caller: My PIN is 1234 (the IVR heard "my pin is one two three four")'
    assert describe_entry({**entry, "heard": entry["text"]}) == "Caller: My PIN is 1234"
    assert describe_entry({**entry, "party": "ivr"}) == "IVR: My PIN is 1234"


def hear_plainly(hearing, text):
    """The recognizer's pass, written plainly: the reference `_Hearing.hear` is tested against."""
    from app.simulator.recognizer import _AM_PM, _SYMBOL, _SYMBOL_WORDS, _TOKEN, RANGE
    text = RANGE.sub(r"\1 to \2", text)
    text = _SYMBOL.sub(lambda m: f" {_SYMBOL_WORDS[m.group(0)]} ", text)
    text = _AM_PM.sub(lambda m: f" {m.group(1)}m " if hearing.chance(2) else f" {m.group(1)}.m. ", text.lower())
    tokens = _TOKEN.findall(text.replace("\u2019", "'"))
    out, i = [], 0
    while i < len(tokens):
        i = hearing._word(tokens, i, out)
    return " ".join(word for word in out if word not in ".!?,;:")


@pytest.mark.parametrize("error_rate", [0.35, 1.0])
def test_hear_writes_what_the_plain_pass_writes_with_the_same_coins(error_rate):
    """`hear` (per-text preparation kept, plain tokens written directly) against the plain pass
    it shortcuts: the same transcript and the same random numbers left for the confidence."""
    texts = PROMPTS + ["Um, so, press 1 for sales. You cannot leave a voicemail; it's 9 a.m.-5 p.m.",
                       "Call 1-800-555-0199 before 5:30, or 2nd of May, $1,250.50 & 15% off #",
                       "we do not log in on line, it is right here by two",
                       "Oh, well, twenty five thousand three hundred and one users were here."]
    for seed in range(12):
        for text in texts:
            fast, plain = random.Random(f"{seed}|{text}"), random.Random(f"{seed}|{text}")
            assert _Hearing(fast, error_rate).hear(text) == hear_plainly(_Hearing(plain, error_rate), text)
            assert fast.random() == plain.random()


def test_one_generator_seeded_per_utterance_hears_what_a_new_generator_hears():
    """The recognizer re-seeds one Random per utterance instead of making one: the transcripts
    and confidences are those of a new Random(same seed) each time, whatever came before."""
    recognizer = Recognizer("realistic", seed=3)
    for number, text in enumerate(PROMPTS * 2 + ["It's <break time='1s'/> 9 a.m.-5 p.m., $5."]):
        key = f"suite#0:{number}"
        spoken = strip_markup(text)
        fresh = random.Random(f"3|{key}|{spoken}")
        expected = _Hearing(fresh, recognizer.error_rate).hear(spoken), round(fresh.uniform(0.75, 0.97), 2)
        assert recognizer.transcribe(text, key=key) == expected
