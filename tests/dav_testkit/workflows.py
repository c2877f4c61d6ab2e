"""Read, check and build ComfyUI workflows in both formats, against real node specs.

- UI format: what the graph editor saves and loads (nodes with widgets_values, links).
- API format: what POST /prompt takes ({id: {class_type, inputs}}).

Node specs have /object_info's shape: ComfyUI core's come from a real 0.8.0
server (tests/data/comfyui_object_info.json), the pack's are made from its
NODE_CLASS_MAPPINGS the way ComfyUI's server makes them.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE_OBJECT_INFO = ROOT / "tests" / "data" / "comfyui_object_info.json"
WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
UI_ONLY_NODES = {"Note", "MarkdownNote"}
# Nodes the pack's front end draws into: room for the drawing or the video preview.
NODE_SIZES = {"DrawAVideo_GridLayout": (360, 560), "DrawAVideo_SaveVideo": (360, 560)}  # front-end notes: never part of an API prompt
UPLOAD_FLAGS = ("image_upload", "video_upload", "audio_upload", "animated_image_upload")
# Dropdowns listing files or folders on the server: their choices depend on the machine, so any name goes.
FILE_DROPDOWNS = {"video", "video_folder", "folder", "file", "image", "model_folder", "transformer_file"}


MODEL_FILE_INPUT = re.compile(r"^(unet|vae|lora|ckpt|clip|control_net|upscale_model|style_model|clip_vision|model)_name\d*$")


def is_file_dropdown(name: str, choices: list) -> bool:
    return not choices or name in FILE_DROPDOWNS or bool(MODEL_FILE_INPUT.match(name))


def node_info(node_id: str, cls, display_names: dict) -> dict:
    """A classic-API node's /object_info entry, as ComfyUI's server builds it."""
    inputs = cls.INPUT_TYPES()
    return {
        "input": inputs,
        "input_order": {key: list(value) for key, value in inputs.items()},
        "output": list(cls.RETURN_TYPES),
        "output_is_list": list(getattr(cls, "OUTPUT_IS_LIST", [False] * len(cls.RETURN_TYPES))),
        "output_name": list(getattr(cls, "RETURN_NAMES", cls.RETURN_TYPES)),
        "output_tooltips": list(getattr(cls, "OUTPUT_TOOLTIPS", [])),
        "name": node_id,
        "display_name": display_names.get(node_id, node_id),
        "description": getattr(cls, "DESCRIPTION", ""),
        "category": getattr(cls, "CATEGORY", "sd"),
        "output_node": bool(getattr(cls, "OUTPUT_NODE", False)),
    }


def all_specs(pack) -> dict:
    """Core specs from the real server plus the pack's own."""
    specs = json.loads(CORE_OBJECT_INFO.read_text())
    for node_id, cls in pack.NODE_CLASS_MAPPINGS.items():
        specs[node_id] = node_info(node_id, cls, pack.NODE_DISPLAY_NAME_MAPPINGS)
    return specs


# -- one input's spec -----------------------------------------------------------

@dataclass
class InputSpec:
    name: str
    type: str  # "INT", "COMBO", "IMAGE", ...
    options: dict
    choices: list | None = None  # COMBO values

    @property
    def is_widget(self) -> bool:
        return self.type in WIDGET_TYPES and not self.options.get("forceInput")

    @property
    def extra_widget_values(self) -> int:
        """Widgets the editor adds after this one (seed control, upload button) and saves too."""
        extra = 1 if self.type == "INT" and self.options.get("control_after_generate") else 0
        return extra + sum(1 for flag in UPLOAD_FLAGS if self.options.get(flag))

    def accepts(self, value) -> str | None:
        """Why `value` doesn't fit this widget, or None."""
        o = self.options
        if self.type == "COMBO":
            if not is_file_dropdown(self.name, self.choices) and value not in self.choices:
                return f"{value!r} is not one of {self.choices[:8]}"
            return None
        if self.type == "BOOLEAN":
            return None if isinstance(value, bool) else f"{value!r} is not a boolean"
        if self.type == "STRING":
            return None if isinstance(value, str) else f"{value!r} is not a string"
        if self.type == "INT" and (not isinstance(value, int) or isinstance(value, bool)):
            return f"{value!r} is not a whole number"
        if self.type == "FLOAT" and (not isinstance(value, (int, float)) or isinstance(value, bool)):
            return f"{value!r} is not a number"
        if "min" in o and value < o["min"] or "max" in o and value > o["max"]:
            return f"{value!r} is outside {o.get('min')}..{o.get('max')}"
        return None


def input_specs(spec: dict) -> list[InputSpec]:
    """Required then optional inputs, in the order the editor creates their widgets."""
    out = []
    for section in ("required", "optional"):
        for name, entry in spec["input"].get(section, {}).items():
            kind, options = entry[0], (entry[1] if len(entry) > 1 else {}) or {}
            if isinstance(kind, list):  # classic combo: the list of choices itself
                out.append(InputSpec(name, "COMBO", options, list(kind)))
            elif kind == "COMBO":
                out.append(InputSpec(name, "COMBO", options, list(options.get("options", []))))
            else:
                out.append(InputSpec(name, kind, options))
    return out


def types_match(out_type: str, in_type: str) -> bool:
    if "*" in (out_type, in_type):
        return True
    return bool(set(out_type.split(",")) & set(in_type.split(",")))


# -- the graph both formats describe ---------------------------------------------

@dataclass
class Graph:
    """Format-free view of a workflow: nodes with widget values and links."""

    types: dict[str, str] = field(default_factory=dict)  # node id -> class
    values: dict[str, dict] = field(default_factory=dict)  # node id -> {input: value}
    links: set = field(default_factory=set)  # (from id, from slot, to id, input name)


def widget_values_by_name(spec: dict, widgets_values: list) -> dict:
    """Map a UI node's widgets_values list onto input names (skipping the editor's extra widgets)."""
    named, i = {}, 0
    for inp in input_specs(spec):
        if not inp.is_widget:
            continue
        if i < len(widgets_values):
            named[inp.name] = widgets_values[i]
        i += 1 + inp.extra_widget_values
    return named


def graph_from_ui(workflow: dict, specs: dict) -> Graph:
    graph = Graph()
    links = {link[0]: link for link in workflow["links"]}
    for node in workflow["nodes"]:
        if node["type"] in UI_ONLY_NODES or node.get("mode", 0) in (2, 4):  # muted/bypassed nodes aren't sent
            continue
        nid = str(node["id"])
        graph.types[nid] = node["type"]
        linked = {inp["name"] for inp in node.get("inputs", []) if inp.get("link") is not None}
        values = widget_values_by_name(specs[node["type"]], node.get("widgets_values") or [])
        graph.values[nid] = {k: v for k, v in values.items() if k not in linked}
        for inp in node.get("inputs", []):
            if inp.get("link") is not None:
                _, origin, slot, _target, _tslot, _type = links[inp["link"]]
                graph.links.add((str(origin), int(slot), nid, inp["name"]))
    return graph


def graph_from_api(prompt: dict) -> Graph:
    graph = Graph()
    for nid, node in prompt.items():
        graph.types[nid] = node["class_type"]
        graph.values[nid] = {}
        for name, value in node["inputs"].items():
            if isinstance(value, list) and len(value) == 2 and isinstance(value[0], str):
                graph.links.add((value[0], int(value[1]), nid, name))
            else:
                graph.values[nid][name] = value
    return graph


# -- checks ---------------------------------------------------------------------

def check_ui_workflow(workflow: dict, specs: dict) -> list[str]:
    """Every problem found in a UI workflow (empty list: it is sound)."""
    problems = []
    nodes = {node["id"]: node for node in workflow["nodes"]}
    for node in workflow["nodes"]:
        where = f"node {node['id']} ({node['type']})"
        if node["type"] in UI_ONLY_NODES:
            continue
        spec = specs.get(node["type"])
        if spec is None:
            problems.append(f"{where}: node type is not a core node nor one of the pack's")
            continue
        inputs = {i.name: i for i in input_specs(spec)}
        expected = sum(1 + i.extra_widget_values for i in inputs.values() if i.is_widget)
        values = node.get("widgets_values") or []
        if len(values) != expected:
            problems.append(f"{where}: {len(values)} widget values but the node has {expected} widgets")
        for name, value in widget_values_by_name(spec, values).items():
            why = inputs[name].accepts(value)
            if why:
                problems.append(f"{where}: widget {name}: {why}")
        linked = {i["name"] for i in node.get("inputs", []) if i.get("link") is not None}
        for name, inp in inputs.items():
            required = name in spec["input"].get("required", {})
            if required and not inp.is_widget and name not in linked:
                problems.append(f"{where}: required input {name} ({inp.type}) is not connected")
    for link_id, origin, oslot, target, tslot, ltype in workflow["links"]:
        where = f"link {link_id}"
        if origin not in nodes or target not in nodes:
            problems.append(f"{where}: joins a node that does not exist")
            continue
        src, dst = nodes[origin], nodes[target]
        if src["type"] in UI_ONLY_NODES or dst["type"] in UI_ONLY_NODES:
            problems.append(f"{where}: a note cannot be linked")
            continue
        if src["type"] not in specs or dst["type"] not in specs:
            continue  # already reported as an unknown node
        out_types = specs[src["type"]]["output"]
        if oslot >= len(out_types):
            problems.append(f"{where}: {src['type']} has no output {oslot}")
            continue
        dst_inputs = dst.get("inputs", [])
        if tslot >= len(dst_inputs) or dst_inputs[tslot].get("link") != link_id:
            problems.append(f"{where}: target slot {tslot} of node {target} does not hold this link")
            continue
        name = dst_inputs[tslot]["name"]
        spec_inputs = {i.name: i for i in input_specs(specs[dst["type"]])}
        if name not in spec_inputs:
            problems.append(f"{where}: {dst['type']} has no input {name}")
            continue
        in_type = spec_inputs[name].type
        if not types_match(out_types[oslot], in_type):
            problems.append(f"{where}: {src['type']} output {out_types[oslot]} into {dst['type']}.{name} ({in_type})")
        if link_id not in (src["outputs"][oslot].get("links") or []):
            problems.append(f"{where}: not listed on node {origin}'s output {oslot}")
    return problems


def check_api_prompt(prompt: dict, specs: dict) -> list[str]:
    problems = []
    for nid, node in prompt.items():
        where = f"node {nid} ({node['class_type']})"
        spec = specs.get(node["class_type"])
        if spec is None:
            problems.append(f"{where}: node type is not a core node nor one of the pack's")
            continue
        inputs = {i.name: i for i in input_specs(spec)}
        for name in spec["input"].get("required", {}):
            if name not in node["inputs"]:
                problems.append(f"{where}: required input {name} missing")
        for name, value in node["inputs"].items():
            if name not in inputs:
                problems.append(f"{where}: unknown input {name}")
            elif isinstance(value, list):
                src = prompt.get(value[0])
                if src is None:
                    problems.append(f"{where}: input {name} links to missing node {value[0]}")
                    continue
                out_types = specs[src["class_type"]]["output"]
                if value[1] >= len(out_types) or not types_match(out_types[value[1]], inputs[name].type):
                    problems.append(f"{where}: input {name} ({inputs[name].type}) fed by {src['class_type']} slot {value[1]}")
            else:
                why = inputs[name].accepts(value)
                if why:
                    problems.append(f"{where}: input {name}: {why}")
    return problems


def compare_graphs(ui: Graph, api: Graph) -> list[str]:
    problems = []
    if ui.types != api.types:
        problems.append(f"node types differ: UI {sorted(ui.types.items())} vs API {sorted(api.types.items())}")
    if ui.links != api.links:
        problems.append(f"links differ: only in UI {sorted(ui.links - api.links)}, only in API {sorted(api.links - ui.links)}")
    for nid in ui.values.keys() & api.values.keys():
        if ui.values[nid] != api.values[nid]:
            problems.append(f"node {nid}: widget values differ: UI {ui.values[nid]} vs API {api.values[nid]}")
    return problems


# -- building both twins from one description ----------------------------------------

@dataclass
class Output:
    node: "NodeDraft"
    slot: int


@dataclass
class NodeDraft:
    id: int
    type: str
    inputs: dict
    title: str | None = None
    models: list | None = None
    group: str | None = None
    size: tuple | None = None

    def out(self, name_or_slot=0) -> Output:
        return Output(self, name_or_slot)


class WorkflowBuilder:
    """Describe a graph once; get its UI workflow and its API prompt.

        wf = WorkflowBuilder(specs)
        layout = wf.add("DrawAVideo_GridLayout", rows=4, cols=4, ...)
        latent = wf.add("EmptySD3LatentImage", width=layout.out("width"), height=layout.out("height"), batch_size=1)

    Unset widgets take the spec's default; outputs are named or numbered.
    """

    def __init__(self, specs: dict):
        self.specs, self.nodes, self.notes = specs, [], []

    def add(self, type_: str, title=None, models=None, group=None, size=None, **inputs) -> NodeDraft:
        node = NodeDraft(len(self.nodes) + len(self.notes) + 1, type_, inputs, title, models, group, size)
        self.nodes.append(node)
        return node

    def note(self, text: str, title: str = "Note", group=None, size=(420, 220)) -> None:
        self.notes.append(NodeDraft(len(self.nodes) + len(self.notes) + 1, "MarkdownNote", {"text": text}, title, None, group, size))

    def _slot(self, output: Output) -> int:
        if isinstance(output.slot, int):
            return output.slot
        spec = self.specs[output.node.type]
        names = spec["output_name"]
        return names.index(output.slot) if output.slot in names else spec["output"].index(output.slot)

    def _widget_value(self, node: NodeDraft, inp: InputSpec):
        value = node.inputs.get(inp.name)
        if value is None or isinstance(value, Output):
            value = inp.options.get("default", inp.choices[0] if inp.choices else None)
        if value is None:
            value = {"INT": 0, "FLOAT": 0.0, "STRING": "", "BOOLEAN": False}.get(inp.type, "")
        return value

    def api(self) -> dict:
        prompt = {}
        for node in self.nodes:
            inputs = {}
            for inp in input_specs(self.specs[node.type]):
                value = node.inputs.get(inp.name)
                if isinstance(value, Output):
                    inputs[inp.name] = [str(value.node.id), self._slot(value)]
                elif inp.is_widget:
                    inputs[inp.name] = self._widget_value(node, inp)
            unknown = set(node.inputs) - {i.name for i in input_specs(self.specs[node.type])}
            if unknown:
                raise KeyError(f"{node.type} has no inputs {unknown}")
            prompt[str(node.id)] = {"inputs": inputs, "class_type": node.type, "_meta": {"title": node.title or self._display(node.type)}}
        return prompt

    def _display(self, type_: str) -> str:
        return self.specs[type_].get("display_name") or type_

    def _depths(self) -> dict:
        depth = {}

        def visit(node):
            if node.id not in depth:
                parents = [v.node for v in node.inputs.values() if isinstance(v, Output)]
                depth[node.id] = 1 + max((visit(p) for p in parents), default=-1)
            return depth[node.id]

        for node in self.nodes:
            visit(node)
        return depth

    def ui(self) -> dict:
        depths = self._depths()
        links, ui_nodes, column_y = [], [], {}
        outputs = {node.id: {} for node in self.nodes}  # node id -> slot -> [link ids]
        link_id = 0
        for node in sorted(self.nodes, key=lambda n: (depths[n.id], n.id)):
            spec = self.specs[node.type]
            specs_in = input_specs(spec)
            inputs, widgets = [], []
            for inp in specs_in:
                value = node.inputs.get(inp.name)
                if inp.is_widget:
                    widgets.append(self._widget_value(node, inp))
                    if inp.extra_widget_values:
                        widgets += ["fixed"] if inp.type == "INT" and inp.options.get("control_after_generate") else []
                        widgets += ["image"] * sum(1 for f in UPLOAD_FLAGS if inp.options.get(f))
                if isinstance(value, Output):
                    link_id += 1
                    slot = self._slot(value)
                    entry = {"name": inp.name, "type": inp.type if inp.type != "COMBO" else "COMBO", "link": link_id}
                    if inp.is_widget:
                        entry["widget"] = {"name": inp.name}
                    inputs.append(entry)
                    out_type = self.specs[value.node.type]["output"][slot]
                    links.append([link_id, value.node.id, slot, node.id, len(inputs) - 1, out_type])
                    outputs[value.node.id].setdefault(slot, []).append(link_id)
                elif not inp.is_widget and inp.name in spec["input"].get("required", {}):
                    inputs.append({"name": inp.name, "type": inp.type, "link": None})
            col = depths[node.id]
            size = list(node.size or NODE_SIZES.get(node.type) or (340, 60 + 26 * (len(widgets) + max(len(inputs), len(spec["output"])))))
            y = column_y.get(col, 0)
            column_y[col] = y + size[1] + 60
            ui_nodes.append({
                "id": node.id, "type": node.type, "pos": [col * 400, y], "size": size, "flags": {},
                "order": len(ui_nodes), "mode": 0, "inputs": inputs, "outputs": [],
                "title": node.title or self._display(node.type),
                "properties": {"Node name for S&R": node.type, **({"models": node.models} if node.models else {})},
                "widgets_values": widgets,
            })
        for ui_node in ui_nodes:
            spec = self.specs[ui_node["type"]]
            ui_node["outputs"] = [
                {"name": name, "type": type_, "links": outputs[ui_node["id"]].get(slot, []), "slot_index": slot,
                 **({"shape": 6} if spec["output_is_list"][slot] else {})}
                for slot, (name, type_) in enumerate(zip(spec["output_name"], spec["output"]))
            ]
        note_y = max(column_y.values(), default=0)
        for i, note in enumerate(self.notes):
            ui_nodes.append({
                "id": note.id, "type": note.type, "pos": [i * 460, note_y + 40], "size": list(note.size), "flags": {},
                "order": len(ui_nodes), "mode": 0, "inputs": [], "outputs": [], "title": note.title,
                "properties": {}, "widgets_values": [note.inputs["text"]], "color": "#432", "bgcolor": "#653",
            })
        return {
            "id": str(uuid.uuid5(uuid.NAMESPACE_URL, json.dumps([n["type"] for n in ui_nodes]))),
            "revision": 0,
            "last_node_id": max(n["id"] for n in ui_nodes),
            "last_link_id": link_id,
            "nodes": sorted(ui_nodes, key=lambda n: n["id"]),
            "links": links,
            "groups": [],
            "config": {},
            "extra": {"ds": {"scale": 0.75, "offset": [40, 40]}},
            "version": 0.4,
        }
