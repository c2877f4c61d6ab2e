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

from . import ROOT

CORE_OBJECT_INFO = ROOT / "tests" / "data" / "comfyui_object_info.json"
WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
UI_ONLY_NODES = {"Note", "MarkdownNote"}  # front-end notes: never part of an API prompt
# Nodes the editor draws taller than one row per widget: the pack's grid drawing (+ its live player,
# 240 px) and video preview, and core previews (a text box plus the frontend's own previewMode widget, an image).
NODE_SIZES = {"DrawAVideo_GridLayout": (380, 800), "DrawAVideo_SaveVideo": (380, 560),
              "PreviewAny": (400, 220), "PreviewImage": (400, 320)}
NODE_WIDTH, COLUMN_GAP, ROW_GAP, COLUMNS_PER_BAND = 400, 60, 50, 6
# The editor's Comfy.UploadImage extension adds ONE "upload" button for the first required combo with one
# of these, as a new last REQUIRED input: its value ("image") is saved after the node's last required widget.
MEDIA_UPLOAD_FLAGS = ("image_upload", "video_upload", "animated_image_upload")
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
    def has_seed_control(self) -> bool:
        """The editor adds a 'control after generate' widget (saved right after this one) to an INT that asks
        for it, and to every INT named seed or noise_seed unless it says control_after_generate: False."""
        return self.type == "INT" and bool(self.options.get("control_after_generate", self.name in ("seed", "noise_seed")))

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


def widget_slots(spec: dict) -> list[tuple[str, InputSpec]]:
    """The editor's widgets of a node in order, as saved in widgets_values: ("value", input) for an
    input's own widget, ("control", input) for its seed control, ("upload", input) for the upload button."""
    specs = input_specs(spec)
    required = spec["input"].get("required", {})
    upload = next((i for i in specs if i.name in required and i.type == "COMBO"
                   and any(i.options.get(f) for f in MEDIA_UPLOAD_FLAGS)), None)
    slots = []
    for n, inp in enumerate(specs):
        if inp.is_widget:
            slots.append(("value", inp))
            if inp.has_seed_control:
                slots.append(("control", inp))
        if upload and inp.name in required and (n + 1 == len(specs) or specs[n + 1].name not in required):
            slots.append(("upload", upload))
    return slots


def widget_values_by_name(spec: dict, widgets_values: list) -> dict:
    """Map a UI node's widgets_values list onto input names (skipping the editor's extra widgets)."""
    return {inp.name: value for (kind, inp), value in zip(widget_slots(spec), widgets_values) if kind == "value"}


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
        expected = len(widget_slots(spec))
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
    for link_id, origin, oslot, target, tslot, _ltype in workflow["links"]:
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
    node: NodeDraft
    slot: int


@dataclass
class NodeDraft:
    id: int
    type: str
    inputs: dict
    title: str | None = None
    models: list | None = None
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

    def add(self, type_: str, title=None, models=None, size=None, **inputs) -> NodeDraft:
        node = NodeDraft(len(self.nodes) + len(self.notes) + 1, type_, inputs, title, models, size)
        self.nodes.append(node)
        return node

    def note(self, text: str, title: str = "Note", size=None) -> None:
        self.notes.append(NodeDraft(len(self.nodes) + len(self.notes) + 1, "MarkdownNote", {"text": text}, title, None, size))

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
            inputs, specs_in = {}, input_specs(self.specs[node.type])
            for inp in specs_in:
                value = node.inputs.get(inp.name)
                if isinstance(value, Output):
                    inputs[inp.name] = [str(value.node.id), self._slot(value)]
                elif inp.is_widget:
                    inputs[inp.name] = self._widget_value(node, inp)
            unknown = set(node.inputs) - {i.name for i in specs_in}
            if unknown:
                raise KeyError(f"{node.type} has no inputs {unknown}")
            prompt[str(node.id)] = {"inputs": inputs, "class_type": node.type, "_meta": {"title": node.title or self._display(node.type)}}
        return prompt

    def _display(self, type_: str) -> str:
        return self.specs[type_].get("display_name") or type_

    def _columns(self) -> dict:
        """Each node's column: as late as possible, one before its first consumer, so a loader or
        a sampler setting sits next to where it is used instead of at the far left."""
        consumers = {node.id: [] for node in self.nodes}
        for node in self.nodes:
            for value in node.inputs.values():
                if isinstance(value, Output):
                    consumers[value.node.id].append(node.id)
        depth = {}

        def longest_path(node):
            if node.id not in depth:
                parents = [v.node for v in node.inputs.values() if isinstance(v, Output)]
                depth[node.id] = 1 + max((longest_path(p) for p in parents), default=-1)
            return depth[node.id]

        for node in self.nodes:
            longest_path(node)
        column = {}
        for node in sorted(self.nodes, key=lambda n: -depth[n.id]):  # consumers first
            users = [column[c] for c in consumers[node.id]]
            column[node.id] = min(users) - 1 if users else depth[node.id]
        return column

    @staticmethod
    def _note_size(note: NodeDraft) -> tuple[int, int]:
        """Tall enough for its text: about 7 px a character, 20 px a line, at the note's width."""
        width = note.size[0] if note.size else 560
        lines = sum(1 + len(line) * 7 // (width - 40) for line in note.inputs["text"].split("\n"))
        return width, max(note.size[1] if note.size else 0, 80 + 20 * lines)

    def _place(self, ui_nodes: list, placed: list) -> None:
        """Stack nodes in their columns; wrap every COLUMNS_PER_BAND columns into a new band below."""
        by_id = {n["id"]: n for n in ui_nodes}
        first = min((col for _, col, _ in placed), default=0)
        band_top, bands = 0, {}
        for nid, col, size in placed:
            bands.setdefault((col - first) // COLUMNS_PER_BAND, []).append((nid, (col - first) % COLUMNS_PER_BAND, size))
        for band in sorted(bands):
            column_y = {}
            for nid, col, size in bands[band]:
                y = column_y.get(col, band_top)
                by_id[nid]["pos"] = [col * (NODE_WIDTH + COLUMN_GAP), y]
                column_y[col] = y + size[1] + ROW_GAP
            band_top = max(column_y.values()) + 2 * ROW_GAP

    def ui(self) -> dict:
        depths = self._columns()
        links, ui_nodes, placed = [], [], []
        outputs = {node.id: {} for node in self.nodes}  # node id -> slot -> [link ids]
        link_id = 0
        for node in sorted(self.nodes, key=lambda n: (depths[n.id], n.id)):
            spec = self.specs[node.type]
            inputs = []
            for inp in input_specs(spec):
                value = node.inputs.get(inp.name)
                if isinstance(value, Output):
                    link_id += 1
                    slot = self._slot(value)
                    entry = {"name": inp.name, "type": inp.type, "link": link_id}
                    if inp.is_widget:
                        entry["widget"] = {"name": inp.name}
                    inputs.append(entry)
                    out_type = self.specs[value.node.type]["output"][slot]
                    links.append([link_id, value.node.id, slot, node.id, len(inputs) - 1, out_type])
                    outputs[value.node.id].setdefault(slot, []).append(link_id)
                elif not inp.is_widget and inp.name in spec["input"].get("required", {}):
                    inputs.append({"name": inp.name, "type": inp.type, "link": None})
            widgets = [self._widget_value(node, inp) if kind == "value" else ("fixed" if kind == "control" else "image")
                       for kind, inp in widget_slots(spec)]
            size = list(node.size or NODE_SIZES.get(node.type) or (NODE_WIDTH, 60 + 26 * (len(widgets) + max(len(inputs), len(spec["output"])))))
            placed.append((node.id, depths[node.id], size))
            ui_nodes.append({
                "id": node.id, "type": node.type, "pos": [0, 0], "size": size, "flags": {},
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
        self._place(ui_nodes, placed)
        note_sizes = [self._note_size(note) for note in self.notes]
        top = -max((h for _, h in note_sizes), default=0) - 2 * ROW_GAP
        x = 0
        for note, size in zip(self.notes, note_sizes):
            ui_nodes.append({
                "id": note.id, "type": note.type, "pos": [x, top], "size": list(size), "flags": {},
                "order": len(ui_nodes), "mode": 0, "inputs": [], "outputs": [], "title": note.title,
                "properties": {}, "widgets_values": [note.inputs["text"]], "color": "#432", "bgcolor": "#653",
            })
            x += size[0] + COLUMN_GAP
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
