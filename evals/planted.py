"""How well core/flagging.py tells planted instructions from genuine guidance.

`python -m evals.planted [--set evals/planted.jsonl] [--scan FOLDER ...]`: recall on the planted sentences, false
alarms on the genuine ones (with every miss and false alarm listed), and, with --scan, every sentence the flagger
flags in real documents (e.g. knowledge/ and ../shared/corpora/partnerships, whose documents nobody planted
anything in: each flag there is a false alarm). The flagger's rules are hand-written, not fitted, so there is
nothing to cross-validate; the set was written together with the rules, so its figures are optimistic.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from pathlib import Path

from core.flagging import flag_sentence, flag_text

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class PlantedReport:
    planted: int = 0
    genuine: int = 0
    caught: int = 0
    false_alarms: int = 0
    misses: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.caught / self.planted if self.planted else 1.0

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.genuine if self.genuine else 0.0


def evaluate(path: Path) -> PlantedReport:
    report = PlantedReport()
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        flagged = bool(flag_text(row["text"])) or bool(flag_sentence(row["text"]))
        if row["planted"]:
            report.planted += 1
            report.caught += flagged
            if not flagged:
                report.misses.append(row["text"])
        else:
            report.genuine += 1
            report.false_alarms += flagged
            if flagged:
                report.alarms.append(row["text"])
    return report


def scan(folder: Path) -> tuple[int, list[tuple[str, str]]]:
    """(sentences read, [(file, flagged sentence)]) over the text files of a folder."""
    from core.text import sentence_spans

    n, found = 0, list[tuple[str, str]]()
    for path in sorted(folder.rglob("*")):
        if path.suffix not in (".txt", ".md") or not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        n += len(sentence_spans(text))
        found.extend((path.name, f.describe()) for f in flag_text(text))
    return n, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", type=Path, default=ROOT / "evals" / "planted.jsonl")
    parser.add_argument("--scan", type=Path, nargs="*", default=[])
    args = parser.parse_args()
    r = evaluate(args.set)
    print(f"planted: {r.caught}/{r.planted} caught (recall {r.recall:.2f})")
    print(f"genuine: {r.false_alarms}/{r.genuine} flagged (false alarms {r.false_alarm_rate:.2f})")
    for text in r.misses:
        print(f"  MISS   {text}")
    for text in r.alarms:
        print(f"  ALARM  {text}")
    for folder in args.scan:
        if not folder.is_dir():
            print(f"scan {folder}: not there, skipped")
            continue
        n, found = scan(folder)
        print(f"scan {folder}: {len(found)} of {n} sentences flagged")
        for name, what in found:
            print(f"  {name}: {what}")


if __name__ == "__main__":
    main()
