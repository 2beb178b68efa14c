"""A copy of the shipped policy catalogue with one more purpose, granted every category.

The shipped purposes each release only what their procedure needs; tests of the whole
request path ask for every field, under a purpose of their own added to a copy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from policies import SHIPPED, load_catalogue

_PURPOSE = """\
id: {purpose}
label: Jeu d'essai ({purpose})
legal_basis:
  title: Jeu d'essai (bac à sable)
  href: https://example.org/{purpose}
lawful_ground: public_task
clients: []
groups: [departement]
retention_days: 1
categories:
  2000-01-01: [{categories}]
"""


def with_everything(directory: Path, purpose: str) -> Path:
    target = directory / "policies"
    shutil.copytree(SHIPPED, target)
    categories = ", ".join(sorted(load_catalogue().categories))
    (target / "purposes" / f"{purpose}.yaml").write_text(
        _PURPOSE.format(purpose=purpose, categories=categories), encoding="utf-8"
    )
    return target
