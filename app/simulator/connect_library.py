"""An instance's flows on disk: the folder of exports a target's flow transfers into.

Teams keep every flow and module of an instance side by side (an export per file, or Terraform's
and CDK's wrapped `Content` files). A flow's TransferToFlow, the older Transfer to a flow, and
InvokeFlowModule name another flow by ARN, by id, or (in the older format and in templated
projects) by name; this finds it among the files of the target's folder and its subfolders.

How a reference is matched, first hit wins:
1. the flow's ARN or id (from a wrapper or describe-contact-flow output), or an ARN's last
   segment against them;
2. the flow's name (a wrapper's "Name", the export's metadata name), then the file name without
   ".json" (for a flow in a CloudFormation template, its logical id), compared without case,
   spaces, "-" or "_";
3. for a templated reference (`${var.flows["main"]}`, `{{contactFlows.Main.arn}}`), each word
   of it, as a name.
Files are read the first time a transfer needs them; a file that is not a flow is skipped, and a
flow that fails to load is reported when something transfers to it.
"""
import re
from pathlib import Path

from app.errors import FlowError, NotAFlowExport
from app.simulator.connect_flow import load_flow, load_flows
from app.simulator.connect_templates import YAML_SUFFIXES

MAX_FILES = 500
SUFFIXES = (".json", *YAML_SUFFIXES, ".tf")   # flow exports, CloudFormation and Terraform holding flows
MAX_FILE_BYTES = 5_000_000
_TEMPLATE_WORDS = re.compile(r"[A-Za-z0-9_-]{3,}")


def _key(text):
    return re.sub(r"[\s_-]+", "", str(text)).lower()


class FlowLibrary:
    """The flows under `folder`, found by reference; `entry` is the flow the call starts in."""

    def __init__(self, folder, entry=None):
        self.folder, self.entry = Path(folder), entry
        self._flows = None          # [(path, Flow)] once read
        self._broken = {}           # path -> the FlowError that stopped it loading

    def __str__(self):
        return str(self.folder)

    def flows(self):
        """Every flow file under the folder (nearest first), read once."""
        if self._flows is None:
            self._flows = []
            files = sorted((p for p in self.folder.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES),
                           key=lambda p: (len(p.relative_to(self.folder).parts), str(p)))
            for path in files[:MAX_FILES]:
                self._read(path)
        return self._flows

    def _read(self, path):
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                return
            for flow in load_flows(path):
                same = self.entry is not None and flow.source == self.entry.source
                self._flows.append((path, self.entry if same else flow))
        except NotAFlowExport:
            pass
        except FlowError as exc:
            self._broken[path] = exc
        except OSError:
            pass

    def find(self, ref, also=None):
        """(the flow `ref` names, None) or (None, why it was not found)."""
        ref = str(ref).strip()
        tail = ref.rstrip("/").split("/")[-1]
        flows = self.flows()
        for path, flow in flows:
            if ref in (flow.arn, flow.flow_id) or (flow.flow_id and tail == flow.flow_id):
                return flow, None
        names = [ref, tail, *(also and [also] or [])]
        if "${" in ref or "{{" in ref:
            names += _TEMPLATE_WORDS.findall(ref)
        for name in map(_key, names):
            for path, flow in flows:
                if name and name in (_key(flow.name or ""), _key(path.stem), _key(flow.flow_id or "")):
                    return flow, None
        broken = [f"{path.name}: {exc}" for path, exc in self._broken.items() if _key(tail) in _key(path.stem)]
        if broken:
            return None, f"the flow did not load ({broken[0]})"
        return None, f"no flow with that ARN, id or name among the {len(flows)} flows in {self.folder}"


def load_target(path):
    """The flow a target names, and the library of flows around it (its folder and below)."""
    path = Path(path)
    flow = load_flow(path)
    return flow, FlowLibrary(path if path.is_dir() else path.parent, entry=flow)
