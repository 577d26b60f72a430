"""Public Amazon Connect flow exports (tests/fixtures/real/flows, sources in SOURCES.md) load and play.

Each is played to a silent caller (`connect_probe`). Where the flow's first words can be read from
the export without running it (the start block, through blocks that only set things, reaches a
prompt with literal text), the caller must hear exactly those words first.
"""
import re
from pathlib import Path

import pytest

from app.spoken import strip_markup
from app.simulator.connect_flow import load_flow, load_flows
from app.simulator.connect_library import SUFFIXES
from app.simulator.connect_probe import probe

CORPUS = Path(__file__).parent / "fixtures" / "real" / "flows"
FILES = sorted(p for p in CORPUS.rglob("*") if p.suffix in SUFFIXES)
# Every flow: one per export, one per flow resource of a CloudFormation template ("file#LogicalId").
FLOWS = [flow.source for path in FILES for flow in load_flows(path)]
SPEAKING = ("MessageParticipant", "GetParticipantInput", "ConnectParticipantWithLexBot")
PASS_THROUGH = ("UpdateContactAttributes", "UpdateFlowAttributes", "UpdateContactData", "UpdateFlowLoggingBehavior",
                "UpdateContactTextToSpeechVoice", "UpdateContactRecordingBehavior", "UpdateContactEventHooks",
                "UpdateContactRoutingBehavior", "UpdateContactMediaStreamingBehavior", "UpdateContactTargetQueue")


def expected_first_prompt(flow):
    """The first words a silent caller hears, when the export alone says; else None."""
    block, seen = flow.blocks[flow.start], set()
    while block.type in PASS_THROUGH and block.next and block.id not in seen and \
            not (block.type == "UpdateContactTargetQueue" and not block.params.get("QueueId")):
        seen.add(block.id)
        block = flow.blocks[block.next]
    text = block.params.get("Text") or block.params.get("SSML") if block.type in SPEAKING else None
    if not isinstance(text, str) or "$." in text or not strip_markup(text):
        return None
    return strip_markup(text)


def test_the_corpus_is_large_and_every_file_is_listed_with_its_source():
    sources = (CORPUS / "SOURCES.md").read_text()
    listed = set(re.findall(r"^\| (\S+\.(?:json|yaml)) \|", sources, re.M))
    assert listed == {str(path.relative_to(CORPUS)) for path in FILES}
    repositories = {path.relative_to(CORPUS).parts[0] for path in FILES}
    assert len(FILES) >= 30 and len(repositories) >= 8 and len(FLOWS) >= len(FILES) + 10
    assert all(path.stat().st_size < 70_000 for path in FILES)


@pytest.mark.parametrize("path", FLOWS, ids=[str(Path(p).relative_to(CORPUS)) for p in FLOWS])
def test_every_real_flow_loads_and_plays(path):
    result = probe(path)
    assert result.loaded, result.error
    assert result.blocks_run >= 1 and result.outcome
    assert not result.outcome.startswith("unmodelled"), result.outcome
    assert not result.outcome.startswith("error:"), result.outcome
    expected = expected_first_prompt(load_flow(path))
    if expected is not None:
        assert result.first_prompt == expected


def test_many_real_flows_have_a_first_prompt_to_check():
    """The exact first-prompt check above runs on a good share of the corpus, not a handful."""
    checked = [path for path in FLOWS if expected_first_prompt(load_flow(path)) is not None]
    assert len(checked) >= 12
