"""Copy the public exports listed in bench/corpus_listed.json out of local checkouts, to measure them.

    python bench/corpus_listed.py CHECKOUTS OUT
    python bench/connect_corpus.py OUT/flows
    python bench/lex_turns.py --corpus OUT/lex

They are listed, not stored in the repository, because their licence does not allow a copy (or
they are too large). CHECKOUTS holds one git repository per entry, as a checkout named
`owner__name` (or `owner/name`) or a bare snapshot `owner+name/repo`; each file is read at the
listed commit (`git show COMMIT:PATH`), so what is measured is what is listed. Flows land in
OUT/flows/owner__name/PATH (the repository's folders kept, so a transfer finds its flow by file
name as it would in that project), bots in OUT/lex/ with a paraphrases.json that
bench/lex_turns.py reads.
"""
import fnmatch
import json
import subprocess
import sys
from pathlib import Path

LIST = Path(__file__).resolve().parent / "corpus_listed.json"


def git_dir(checkouts, repo):
    owner, name = repo.split("/")
    for candidate in (checkouts / f"{owner}+{name}" / "repo", checkouts / f"{owner}__{name}" / ".git",
                      checkouts / owner / name / ".git"):
        if candidate.exists():
            return candidate
    return None


def git(directory, *args):
    return subprocess.run(["git", "--git-dir", str(directory), *args], capture_output=True, check=True).stdout


def copy(checkouts, entry, patterns, destination):
    """Copy the entry's matching files to `destination`; returns how many, or None if missing."""
    directory = git_dir(checkouts, entry["repo"])
    if directory is None:
        print(f"  not checked out: {entry['repo']}")
        return None
    names = git(directory, "ls-tree", "-r", "--name-only", entry["commit"]).decode().splitlines()
    chosen = [n for n in names if any(fnmatch.fnmatch(n, p) for p in patterns)]
    for name in chosen:
        target = destination(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(git(directory, "show", f"{entry['commit']}:{name}"))
    return len(chosen)


def main(checkouts, out):
    listed = json.loads(LIST.read_text())
    for entry in listed["flows"]:
        folder = out / "flows" / entry["repo"].replace("/", "__")
        count = copy(checkouts, entry, entry["paths"], lambda name: folder / name)
        print(f"{entry['repo']}: {count} file(s)")
    paraphrases = {"_about": listed["_about"]}
    for entry in listed["bots"]:
        name = Path(entry["path"]).name
        if copy(checkouts, entry, [entry["path"]], lambda _: out / "lex" / name):
            paraphrases[name] = entry["paraphrases"]
            print(f"{entry['repo']}: {name}")
    (out / "lex").mkdir(parents=True, exist_ok=True)
    (out / "lex" / "paraphrases.json").write_text(json.dumps(paraphrases, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
