"""The policy catalogue the fan-out benchmark runs under: the shipped one plus one purpose.

The shipped purposes each release only what their procedure needs; the benchmark asks for the
whole person view, so it adds a purpose granted every category. Every field still goes through
the full decision, as in production.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from policies import SHIPPED, load_catalogue

PURPOSE = "bench_full_view"
_TEMPLATE = """\
id: {purpose}
label: Mesure de performance de la vue complète (bac à sable)
legal_basis:
  title: Jeu d'essai (bac à sable)
  href: https://example.org/bench
lawful_ground: public_task
clients: []
groups: [departement]
retention_days: 1
categories:
  2000-01-01: [{categories}]
"""


def bench_catalogue(directory: Path) -> Path:
    target = directory / "policies"
    shutil.copytree(SHIPPED, target)
    categories = ", ".join(sorted(load_catalogue().categories))
    text = _TEMPLATE.format(purpose=PURPOSE, categories=categories)
    (target / "purposes" / f"{PURPOSE}.yaml").write_text(text, encoding="utf-8")
    return target
