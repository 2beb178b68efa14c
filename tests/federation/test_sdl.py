"""The schema's exported SDL (``as_str``) builds in graphql-js, federation fields included.

The peer benchmark serves the project's schema from ``as_str()`` in a graphql-js server, whose
SDL validation refuses unknown directives: ``as_str`` prints the executable schema without
applying the federation directives, which only ``_service { sdl }`` carries (with ``@link``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from schema import SchemaLimits, build_schema
from tests.services import unavailable

ROOT = Path(__file__).resolve().parents[2]
BUILD = (
    "const { buildSchema } = require('graphql');"
    "const schema = buildSchema(require('fs').readFileSync(0, 'utf8'));"
    "console.log(Object.keys(schema.getQueryType().getFields()).join(' '));"
)


def _build_in_graphql_js(sdl: str) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None or not (ROOT / "node_modules" / "graphql").exists():
        unavailable("Node.js and the npm devDependencies (npm ci) are needed")
    return subprocess.run(  # noqa: S603 - node on our own script
        [node, "-e", BUILD], input=sdl, cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_the_exported_sdl_builds_in_graphql_js() -> None:
    sdl = build_schema(SchemaLimits()).as_str()
    # Directive definitions may be printed, applications are not.
    assert '@key(fields: "handle")' not in sdl and "schema @link" not in sdl
    done = _build_in_graphql_js(sdl)
    assert done.returncode == 0, done.stderr
    fields = done.stdout.split()
    assert {"person", "_entities", "_service"} <= set(fields)


def test_graphql_js_refuses_the_subgraph_sdl_without_its_directives() -> None:
    # What ``as_str`` avoids: the federation SDL alone names directives it does not define.
    schema = build_schema(SchemaLimits())
    subgraph = schema.execute_sync("{ _service { sdl } }")
    assert subgraph.data is not None
    done = _build_in_graphql_js(subgraph.data["_service"]["sdl"])
    assert done.returncode != 0 and "Unknown directive" in done.stderr
