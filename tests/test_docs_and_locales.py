"""Node docs (js/docs/, the editor's docs panel) and translations (locales/, ComfyUI's i18n) cover every node.

Generic over NODE_CLASS_MAPPINGS: a node added anywhere in the pack fails here until it has an English and a
Chinese docs page and locale entries for its name, description, inputs, outputs and category
(python tests/dav_testkit/make_locales.py writes the English and lists the Chinese still to write).
"""

import json
import re

import pytest
from dav_testkit import ROOT, import_pack
from dav_testkit import make_locales as ml

PACK = import_pack()
NODE_IDS = list(PACK.NODE_CLASS_MAPPINGS)
CJK = re.compile(r"[\u4e00-\u9fff]")


def _locale(lang, name):
    return json.loads((ROOT / "locales" / lang / name).read_text(encoding="utf-8"))


def test_the_pack_registers_nodes():
    assert len(NODE_IDS) >= 19


@pytest.mark.parametrize("node_id", NODE_IDS)
def test_every_node_has_an_english_and_a_chinese_docs_page(node_id):
    display = PACK.NODE_DISPLAY_NAME_MAPPINGS[node_id]
    cls = PACK.NODE_CLASS_MAPPINGS[node_id]
    en = (ROOT / "js" / "docs" / f"{node_id}.md").read_text(encoding="utf-8")
    zh = (ROOT / "js" / "docs" / node_id / "zh.md").read_text(encoding="utf-8")
    assert en.startswith(f"# {display}\n"), en[:200]
    assert cls.DESCRIPTION in en
    for heading in ("## Inputs", "## Outputs", "## Example"):
        assert heading in en, f"{node_id}.md lacks {heading}"
    for heading in ("## 输入", "## 输出", "## 示例"):
        assert heading in zh, f"{node_id}/zh.md lacks {heading}"
    assert len(CJK.findall(zh)) > 40, f"{node_id}/zh.md is not written in Chinese"
    for name, *_ in ml.visible_inputs(cls):
        assert f"`{name}`" in en and f"`{name}`" in zh, f"input {name} is not in the docs of {node_id}"
    for _, name, _ in ml.outputs(cls):
        assert f"`{name}`" in en and f"`{name}`" in zh, f"output {name} is not in the docs of {node_id}"


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_locale_keys_cover_every_node_input_output_and_category(lang):
    defs = _locale(lang, "nodeDefs.json")
    categories = _locale(lang, "main.json")["nodeCategories"]
    assert set(defs) == set(NODE_IDS), f"locales/{lang}/nodeDefs.json: missing {set(NODE_IDS) - set(defs)}, stale {set(defs) - set(NODE_IDS)}"
    for node_id, cls in PACK.NODE_CLASS_MAPPINGS.items():
        entry = defs[node_id]
        assert entry["display_name"] and entry["description"], node_id
        inputs = {name for name, *_ in ml.visible_inputs(cls)}
        assert set(entry["inputs"]) == inputs, f"{lang} {node_id} inputs: {set(entry['inputs']) ^ inputs}"
        for name in inputs:
            assert entry["inputs"][name]["name"] and entry["inputs"][name]["tooltip"], f"{lang} {node_id}.{name}"
        assert set(entry["outputs"]) == {str(i) for i in range(len(cls.RETURN_TYPES))}, f"{lang} {node_id} outputs"
        for out in entry["outputs"].values():
            assert out["name"] and out["tooltip"], f"{lang} {node_id} output {out}"
        for part in cls.CATEGORY.split("/"):
            assert categories.get(part), f"locales/{lang}/main.json has no nodeCategories.{part}"
        if lang == "zh":
            texts = [entry["display_name"], entry["description"]]
            texts += [v["tooltip"] for v in entry["inputs"].values()] + [v["tooltip"] for v in entry["outputs"].values()]
            untranslated = [t for t in texts if not CJK.search(t)]
            assert not untranslated, f"zh {node_id}: English left in {untranslated}"


def test_english_locale_is_the_node_classes_own_text():
    defs = _locale("en", "nodeDefs.json")
    layout = defs["DrawAVideo_GridLayout"]
    cls = PACK.NODE_CLASS_MAPPINGS["DrawAVideo_GridLayout"]
    assert layout["display_name"] == PACK.NODE_DISPLAY_NAME_MAPPINGS["DrawAVideo_GridLayout"]
    assert layout["inputs"]["rows"]["tooltip"] == cls.INPUT_TYPES()["required"]["rows"][1]["tooltip"]
    assert layout["outputs"]["3"] == {"name": "frames", "tooltip": cls.OUTPUT_TOOLTIPS[3]}


def test_generated_files_are_up_to_date(capsys):
    """Locales and docs match what make_locales.py writes from the current node classes."""
    assert ml.main(["--check"]) == 0, capsys.readouterr().err


def test_merge_keeps_translations_drops_stale_keys_and_reuses_identical_text():
    english = {"A": {"inputs": {"layout": {"name": "layout", "tooltip": "The layout."}, "x": {"name": "x", "tooltip": "New."}}},
               "B": {"inputs": {"layout": {"name": "layout", "tooltip": "The layout."}}}}
    existing = {"A": {"inputs": {"layout": {"name": "布局", "tooltip": "布局。"}}, "gone": {"name": "旧"}}, "C": {"display_name": "旧"}}
    merged, missing = ml.merge_translation(english, existing)
    assert merged["A"]["inputs"]["layout"] == {"name": "布局", "tooltip": "布局。"}
    assert merged["B"]["inputs"]["layout"] == {"name": "布局", "tooltip": "布局。"}  # same English, same Chinese
    assert "C" not in merged and "gone" not in merged["A"]
    assert sorted(missing) == ["A.inputs.x.name", "A.inputs.x.tooltip"]


def test_a_translation_whose_english_changed_is_named_until_redone():
    record = {"A.tooltip": ["Old English.", "旧的翻译。"]}
    _, stale = ml.translation_sources({"A.tooltip": "New English."}, {"A.tooltip": "旧的翻译。"}, record)
    assert stale == [("A.tooltip", "New English.")]
    # The translator redoes it: the record now says it was made from the new English.
    redone, stale = ml.translation_sources({"A.tooltip": "New English."}, {"A.tooltip": "新的翻译。"}, record)
    assert stale == [] and redone == {"A.tooltip": ["New English.", "新的翻译。"]}
