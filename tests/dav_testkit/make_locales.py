"""Write the editor's translations and node docs from the node classes themselves.

    python tests/dav_testkit/make_locales.py           # rewrites locales/*/ and js/docs/
    python tests/dav_testkit/make_locales.py --check   # exit 1 (and list what) if a file is out of date

English comes from the node classes (display name, DESCRIPTION, input/output tooltips, RETURN_NAMES,
CATEGORY), so it never drifts from what the Python says. Chinese is written by hand in
locales/zh/nodeDefs.json and locales/zh/main.json: this script keeps every existing Chinese text, drops
keys of inputs/nodes that are gone, fills a missing tooltip only when the very same English text already
has a Chinese translation elsewhere (the shared 'layout' tooltip), and lists what is still missing.
locales/zh/translated_from_en.json records the English each Chinese text was made from: when a node's
English changes, the script (and the test) names the Chinese text to redo; edit it, run the script again.

Docs pages (js/docs/<node id>.md and js/docs/<node id>/zh.md, ComfyUI's docs-panel convention) are made
from the same locale entries plus the input specs (type, default, range, choices) and a hand-written
example wiring per node in node_examples.py.

Adding a node: give it tooltips and a DESCRIPTION, add its example to node_examples.py, run this script,
then translate what it lists as missing into locales/zh/nodeDefs.json and run it again.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dav_testkit import ROOT, import_pack  # noqa: E402
from dav_testkit.node_examples import EXAMPLES  # noqa: E402

LOCALES = ROOT / "locales"
DOCS = ROOT / "js" / "docs"
LANGS = ("en", "zh")

HEADINGS = {
    "en": {"inputs": "Inputs", "outputs": "Outputs", "example": "Example", "default": "default", "range": "range",
           "choices": "choices", "optional": "optional", "none": "None.", "sep": ", ", "colon": ": "},
    "zh": {"inputs": "输入", "outputs": "输出", "example": "示例", "default": "默认", "range": "范围",
           "choices": "可选值", "optional": "可选", "none": "无。", "sep": "，", "colon": "："},
}


def i18n_key(name: str) -> str:
    """The frontend's normalizeI18nKey: dots would split the key path."""
    return str(name).replace(".", "_")


def node_specs():
    """(node id, class, display name) for every node the pack registers, in registration order."""
    pack = import_pack()
    return [(nid, cls, pack.NODE_DISPLAY_NAME_MAPPINGS.get(nid, nid)) for nid, cls in pack.NODE_CLASS_MAPPINGS.items()]


def visible_inputs(cls) -> list[tuple[str, str, dict, bool]]:
    """(name, type, options, optional) of the inputs the editor shows (hidden ones are skipped)."""
    spec = cls.INPUT_TYPES()
    out = []
    for section in ("required", "optional"):
        for name, entry in spec.get(section, {}).items():
            kind = entry[0]
            options = entry[1] if len(entry) > 1 and isinstance(entry[1], dict) else {}
            out.append((name, kind, options, section == "optional"))
    return out


def outputs(cls) -> list[tuple[str, str, str]]:
    types = list(cls.RETURN_TYPES)
    names = list(getattr(cls, "RETURN_NAMES", None) or types)
    tips = list(getattr(cls, "OUTPUT_TOOLTIPS", None) or [""] * len(types))
    return list(zip(types, names, tips))


def english_node_defs() -> dict:
    defs = {}
    for nid, cls, display in node_specs():
        entry = {"display_name": display, "description": getattr(cls, "DESCRIPTION", "")}
        entry["inputs"] = {i18n_key(name): {"name": name, "tooltip": options.get("tooltip", "")} for name, _, options, _ in visible_inputs(cls)}
        entry["outputs"] = {str(i): {"name": name, "tooltip": tip} for i, (_, name, tip) in enumerate(outputs(cls))}
        defs[i18n_key(nid)] = entry
    return defs


def categories() -> list[str]:
    seen = []
    for _, cls, _ in node_specs():
        for part in cls.CATEGORY.split("/"):
            if i18n_key(part) not in seen:
                seen.append(i18n_key(part))
    return seen


SOURCES = "translated_from_en.json"  # ComfyUI loads only main.json and a few named files from locales/<lang>/


def flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        out.update(flatten(value, path) if isinstance(value, dict) else {path: value})
    return out


def translation_sources(english: dict, translated: dict, record: dict) -> tuple[dict, list[tuple[str, str]]]:
    """Which English each translated text was made from ({key: [english, translation]}), so a change of the
    English is caught: returns (the new record, [(key, current English)] of translations left stale).
    A translation that changed since the record was written counts as made from the current English."""
    new_record, stale = {}, []
    for key, text in translated.items():
        if not text:
            continue
        source, before = record.get(key, [None, None])
        if before == text and source is not None and source != english[key]:
            stale.append((key, english[key]))
            new_record[key] = [source, text]
        else:
            new_record[key] = [english[key], text]
    return new_record, stale


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def merge_translation(english: dict, existing: dict) -> tuple[dict, list[str]]:
    """`existing` (hand-written) reshaped to `english`'s keys; returns (merged, missing key paths)."""
    by_english = {}

    def collect(en, tr):
        for key, value in en.items():
            if isinstance(value, dict):
                collect(value, tr.get(key, {}) if isinstance(tr, dict) else {})
            elif isinstance(tr, dict) and tr.get(key):
                by_english.setdefault(value, tr[key])

    collect(english, existing)
    missing = []

    def merge(en, tr, path):
        out = {}
        for key, value in en.items():
            here = f"{path}.{key}" if path else key
            if isinstance(value, dict):
                out[key] = merge(value, tr.get(key, {}) if isinstance(tr, dict) else {}, here)
            elif isinstance(tr, dict) and tr.get(key):
                out[key] = tr[key]
            elif not value:
                out[key] = ""
            elif value in by_english:
                out[key] = by_english[value]
            else:
                missing.append(here)
        return out

    return merge(english, existing, ""), missing


def _details(kind, options, optional, h) -> str:
    bits = []
    if optional:
        bits.append(h["optional"])
    if isinstance(kind, list | tuple):
        bits.append(f"{h['choices']}{h['colon']}" + ", ".join(f"`{v}`" for v in kind))
        if "default" in options:
            bits.append(f"{h['default']} `{options['default']}`")
    elif "default" in options and kind in ("INT", "FLOAT", "BOOLEAN"):
        bits.append(f"{h['default']} `{options['default']}`")
        if "min" in options and "max" in options:
            bits.append(f"{h['range']} {options['min']}..{options['max']}")
    return h["sep"].join(bits)


def doc_page(nid: str, cls, entry: dict, lang: str) -> str:
    """One node's page: a list per section (the docs panel is a narrow side panel; tables don't fit it)."""
    h = HEADINGS[lang]
    lines = [f"# {entry['display_name']}", "", entry["description"], "", f"## {h['inputs']}", ""]
    inputs = visible_inputs(cls)
    for name, kind, options, optional in inputs:
        text = entry["inputs"][i18n_key(name)]
        label = f"**{text['name']}** (`{name}`)" if text["name"] != name else f"**`{name}`**"
        type_name = "COMBO" if isinstance(kind, list | tuple) else kind
        extra = _details(kind, options, optional, h)
        lines.append(f"- {label} · `{type_name}`{' · ' + extra if extra else ''}{h['colon']}{text['tooltip']}")
    if not inputs:
        lines.append(h["none"])
    lines += ["", f"## {h['outputs']}", ""]
    for i, (kind, name, _) in enumerate(outputs(cls)):
        text = entry["outputs"][str(i)]
        label = f"**{text['name']}** (`{name}`)" if text["name"] != name else f"**`{name}`**"
        lines.append(f"- {label} · `{kind}`{h['colon']}{text['tooltip']}")
    lines += ["", f"## {h['example']}", "", EXAMPLES[nid][lang].strip(), ""]
    return "\n".join(lines)


def build() -> tuple[dict[Path, str], list[str]]:
    """Every generated file (path -> text) and the problems a person must fix (missing Chinese, examples)."""
    files, problems = {}, []
    dump = lambda data: json.dumps(data, ensure_ascii=False, indent=2) + "\n"  # noqa: E731
    english = english_node_defs()
    cats = categories()
    en_main = {"nodeCategories": {c: c for c in cats}}
    files[LOCALES / "en" / "nodeDefs.json"] = dump(english)
    files[LOCALES / "en" / "main.json"] = dump(en_main)
    translated = {"en": english}
    for lang in LANGS[1:]:
        defs, missing = merge_translation(english, _load(LOCALES / lang / "nodeDefs.json"))
        main, missing_main = merge_translation(en_main, _load(LOCALES / lang / "main.json"))
        problems += [f"locales/{lang}/nodeDefs.json: no translation of {m}" for m in missing]
        problems += [f"locales/{lang}/main.json: no translation of {m}" for m in missing_main]
        files[LOCALES / lang / "nodeDefs.json"] = dump(defs)
        files[LOCALES / lang / "main.json"] = dump(main)
        sources, stale = translation_sources(flatten(english), flatten(defs), _load(LOCALES / lang / SOURCES))
        problems += [f"locales/{lang}/nodeDefs.json: {key} was translated from English that has changed since; "
                     f"now: {english_text!r}" for key, english_text in stale]
        files[LOCALES / lang / SOURCES] = dump(sources)
        translated[lang] = defs
    for nid, cls, _ in node_specs():
        for lang in LANGS:
            if not EXAMPLES.get(nid, {}).get(lang):
                problems.append(f"tests/dav_testkit/node_examples.py: no {lang} example wiring for {nid}")
                continue
            entry = translated[lang].get(i18n_key(nid), {})
            try:
                page = doc_page(nid, cls, entry, lang)
            except KeyError as missing:
                problems.append(f"js/docs: {lang} page of {nid} not written, its locale entry lacks {missing}")
                continue
            files[DOCS / (f"{nid}.md" if lang == "en" else f"{nid}/{lang}.md")] = page
    return files, problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file differs or a translation is missing")
    args = parser.parse_args(argv)
    files, problems = build()
    stale = [p for p, text in files.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
    if not args.check:
        for path in stale:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[path], encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)}")
    for problem in problems:
        print(f"MISSING {problem}", file=sys.stderr)
    if args.check:
        for path in stale:
            print(f"OUT OF DATE {path.relative_to(ROOT)} (run python tests/dav_testkit/make_locales.py)", file=sys.stderr)
        return 1 if stale or problems else 0
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
