"""JSON Schemas for kubeconform, made offline from what the project installs.

Kubernetes: the strict schemas the `kubernetes-validate` package (PyPI) ships refer to a
shared `/api/_definitions.json`; kubeconform wants each kind's schema standalone, so every
reference is inlined here (a reference back into itself, as in CRD schemas, admits anything).
The output follows kubeconform's layout:
`<out>/v<version>-standalone-strict/<kind>-<group>-<version>.json`.

CRDs (`crd FILE`): a CustomResourceDefinition's openAPIV3Schema, made strict (no unknown
fields) the way kubeconform's openapi2jsonschema does: written as `<kind>-<group>-<version>.json`.

    python scripts/kube_schemas.py kubernetes OUT [--version 1.30.0]
    python scripts/kube_schemas.py crd CRD.yaml OUT_DIR
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

# references into the shared definitions, from a kind's schema and between definitions
REF_PREFIXES = ("/api/_definitions.json#/$defs/", "#/$defs/")


def inline(node: Any, definitions: dict[str, Any], seen: tuple[str, ...] = ()) -> Any:
    if isinstance(node, list):
        return [inline(item, definitions, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(REF_PREFIXES):
        name = ref.split("/")[-1]
        if name in seen:
            return {}
        return inline(definitions[name], definitions, (*seen, name))
    return {k: inline(v, definitions, seen) for k, v in node.items()}


def kubernetes(out: Path, version: str) -> int:
    import kubernetes_validate

    source = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema"
    folder = source / f"v{version}-local-strict"
    definitions = json.loads((folder / "_definitions.json").read_text())
    defs = definitions.get("$defs") or definitions.get("definitions")
    target = out / f"v{version}-standalone-strict"
    target.mkdir(parents=True, exist_ok=True)
    count = 0
    for path in sorted(folder.glob("*.json")):
        if path.name in ("_definitions.json", "all.json"):
            continue
        schema = inline(json.loads(path.read_text()), defs)
        schema.pop("$id", None)  # kubeconform names a schema by its file
        (target / path.name).write_text(json.dumps(schema))
        count += 1
    print(f"{count} standalone schemas in {target}")
    return 0


def strict(node: Any) -> Any:
    if isinstance(node, list):
        return [strict(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {k: strict(v) for k, v in node.items()}
    if node.pop("x-kubernetes-int-or-string", False):
        node.pop("type", None)
        node["oneOf"] = [{"type": "string"}, {"type": "integer"}]
    if "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    return node


def crd(path: Path, out: Path) -> int:
    import yaml

    document = yaml.safe_load(path.read_text())
    kind = document["spec"]["names"]["kind"].lower()
    group = document["spec"]["group"].split(".")[0]
    out.mkdir(parents=True, exist_ok=True)
    for version in document["spec"]["versions"]:
        schema = strict(version["schema"]["openAPIV3Schema"])
        target = out / f"{kind}-{group}-{version['name']}.json"
        target.write_text(json.dumps(schema, indent=1, sort_keys=True) + "\n")
        print(f"wrote {target}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    k8s = sub.add_parser("kubernetes")
    k8s.add_argument("out", type=Path)
    k8s.add_argument("--version", default="1.30.0")
    c = sub.add_parser("crd")
    c.add_argument("crd", type=Path)
    c.add_argument("out", type=Path)
    args = parser.parse_args(argv)
    if args.what == "kubernetes":
        return kubernetes(args.out, args.version)
    return crd(args.crd, args.out)


if __name__ == "__main__":
    sys.exit(main())
