"""The README documents what ships: every node, every workflow, and the commands CI really runs."""

import re

from dav_testkit import ROOT
from draw_a_video import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

README = (ROOT / "README.md").read_text()


def test_every_node_is_in_the_reference():
    for node_id, name in NODE_DISPLAY_NAME_MAPPINGS.items():
        assert f"`{node_id}`" in README, node_id
        assert name.replace(" (Draw-a-Video)", "") in README, name
    assert set(NODE_DISPLAY_NAME_MAPPINGS) == set(NODE_CLASS_MAPPINGS)


def test_every_workflow_is_walked_through():
    for path in (ROOT / "workflows").glob("*.json"):
        assert f"`{path.stem}`" in README, path.stem


def test_ci_runs_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    test_command = ci[-1].strip()
    blocks = re.findall(r"```bash\n(.*?)```", README, re.S)
    assert any(block.strip() == test_command for block in blocks), test_command


SETUP_COMMAND = "pip install torch==2.13.0 && pip install -r requirements.txt pytest && python -m nodes.demo --out demo"


def test_ci_runs_the_readme_set_up_command_as_written_before_the_tests():
    """The README's set-up command installs everything the test command needs (pytest too): CI runs both verbatim."""
    blocks = [block.strip() for block in re.findall(r"```bash\n(.*?)```", README, re.S)]
    assert SETUP_COMMAND in blocks
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert SETUP_COMMAND in ci and ci.index(SETUP_COMMAND) < len(ci) - 1
