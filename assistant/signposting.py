"""The fixed signposting an urgent concern gets first (999, the front door, out of hours, escalation), read from
knowledge/signposting.yaml, per partnership where it says, with a default. The assistant never invents contacts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from core.errors import BadInput


@dataclass
class Signposting:
    default: dict[str, str] = field(default_factory=dict)
    partnerships: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Signposting:
        if not path.exists():
            return cls(default={"immediate_danger": "If a child is in immediate danger, call 999 now."})
        try:
            data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise BadInput(f"{path} is not valid YAML: {exc}") from exc
        return cls(
            default={k: str(v or "") for k, v in (data.get("default") or {}).items()},
            partnerships={
                str(p): {k: str(v or "") for k, v in (b or {}).items()}
                for p, b in (data.get("partnerships") or {}).items()
            },
        )

    def text(self, partnership: str = "") -> str:
        block = {**self.default, **self.partnerships.get(partnership, {})}
        lines = ["**If this is about a child you are worried about now:**"]
        if block.get("immediate_danger"):
            lines.append(f"- {block['immediate_danger']}")
        for key, phone in (("front_door", "front_door_phone"), ("out_of_hours", "out_of_hours_phone")):
            if block.get(key):
                lines.append(f"- {block[key]}" + (f" ({block[phone]})" if block.get(phone) else ""))
        if block.get("escalation"):
            lines.append(f"- {block['escalation']}")
        lines.append("This assistant does not replace your professional judgement or your safeguarding procedures.")
        return "\n".join(lines)
