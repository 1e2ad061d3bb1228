"""YAML parsing that keeps line numbers."""

from __future__ import annotations

from simkit.yamlsrc import load_located


def test_lines_are_recorded_for_keys_items_and_nested_values() -> None:
    located = load_located("a: 1\nsteps:\n  - x\n  - y.z: {k: 2}\n")
    assert located.data == {"a": 1, "steps": ["x", {"y.z": {"k": 2}}]}
    assert located.line_of(("steps", 1)) == 4
    assert located.line_of(("steps", 1, "y.z", "k")) == 4
    assert located.line_of(("a",)) == 1


def test_unknown_path_falls_back_to_the_nearest_known_ancestor() -> None:
    located = load_located("steps:\n  - x\n")
    assert located.line_of(("steps", 0, "args", "deep")) == 2


def test_scalars_keep_yaml_types() -> None:
    assert load_located("[1, true, null, 2.5, '3']").data == [1, True, None, 2.5, "3"]
