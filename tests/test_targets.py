import pytest

from app.errors import TargetError
from app.targets import parse_target, resolve_target


def test_kinds(tmp_path):
    (tmp_path / "flow.json").write_text("{}")
    assert parse_target("twiml:http://127.0.0.1:5001/voice").kind == "twiml"
    assert parse_target("+15551234567").kind == "phone"
    flow = parse_target("flow.json", lex_bot="bot", base=tmp_path)
    assert flow.kind == "flow" and flow.lex_bot.endswith("bot")


@pytest.mark.parametrize("text", ["twiml:ftp://x", "+1", "no/such/flow.json", ""])
def test_bad_targets_say_what_is_accepted(text):
    with pytest.raises(TargetError, match="target"):
        parse_target(text)


def test_precedence(tmp_path):
    for name in ("cli.json", "suite.json", "env.json"):
        (tmp_path / name).write_text("{}")
    pick = lambda *a: resolve_target(*a, base=tmp_path).value
    assert pick("cli.json", "suite.json", "env.json").endswith("cli.json")
    assert pick(None, "suite.json", "env.json").endswith("suite.json")
    assert pick(None, None, "env.json").endswith("env.json")


def test_default_is_the_sample_flow_with_its_bot():
    target = resolve_target()
    assert target.kind == "flow" and target.value == "aws-connect-contact-flows"
    assert target.lex_bot == "aws-lex-bot"


def test_no_default_here_uses_the_bundled_sample(tmp_path):
    from app.sample import sample_path
    target = resolve_target(base=tmp_path)
    assert target.value == str(sample_path("aws-connect-contact-flows"))
    assert target.lex_bot == str(sample_path("aws-lex-bot"))


def test_no_default_anywhere_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr("app.targets.sample_path", lambda name: None)
    with pytest.raises(TargetError, match="pass --target or set IVR_TARGET"):
        resolve_target(base=tmp_path)


@pytest.mark.parametrize("text,method,url", [
    ("twiml:http://127.0.0.1:5001/voice", "POST", "http://127.0.0.1:5001/voice"),
    ("twiml:GET:http://127.0.0.1:5001/voice?x=1", "GET", "http://127.0.0.1:5001/voice?x=1"),
    ("twiml:post:https://ivr.example.com/voice", "POST", "https://ivr.example.com/voice"),
])
def test_twiml_targets_say_how_the_first_document_is_requested(text, method, url):
    target = parse_target(text)
    assert (target.kind, target.method, target.value) == ("twiml", method, url)
    assert str(target) == (f"twiml:GET:{url}" if method == "GET" else f"twiml:{url}")


def test_a_twiml_target_with_an_unknown_method_names_both_forms():
    with pytest.raises(TargetError, match="twiml:GET:http://HOST/PATH"):
        parse_target("twiml:PUT:http://x/voice")


def test_a_flow_inside_a_template_is_a_target_by_file_and_logical_id(tmp_path):
    (tmp_path / "stack.yaml").write_text("Resources: {}\n")
    target = parse_target("stack.yaml#MainFlow", base=tmp_path)
    assert target.kind == "flow" and target.value == str(tmp_path / "stack.yaml#MainFlow")
    with pytest.raises(TargetError, match="not a flow export file"):
        parse_target("missing.yaml#MainFlow", base=tmp_path)
