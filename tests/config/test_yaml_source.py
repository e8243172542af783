"""The file itself: unreadable, too large, not YAML, empty, duplicate keys, aliases, tags."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsgate.config import load_catalog, load_catalog_text
from opsgate.config.yaml_source import MAX_DEPTH, MAX_FILE_BYTES
from opsgate.errors import ConfigError
from tests.config.catalog_text import build_yaml, line_of, problems_of


def file_problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_catalog(path)
    return caught.value.problems


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    assert file_problems(path) == [f"{path}: cannot be read (No such file or directory)"]


def test_directory_instead_of_file(tmp_path):
    assert file_problems(tmp_path) == [f"{tmp_path}: cannot be read (Is a directory)"]


def test_file_over_one_mebibyte(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("# " + "x" * MAX_FILE_BYTES + "\n")
    assert file_problems(path) == [f"{path}: is larger than 1024 KiB; a catalog is reviewed text"]


def test_text_over_one_mebibyte():
    assert problems_of("a: '" + "x" * MAX_FILE_BYTES + "'\n") == ["opsgate.yaml: is larger than 1024 KiB; a catalog is reviewed text"]


def test_file_not_utf8(tmp_path):
    path = tmp_path / "latin1.yaml"
    path.write_bytes("version: 1\nname: caf\xe9\n".encode("latin-1"))
    assert file_problems(path) == [f"{path}: is not UTF-8 text (invalid byte at offset 20)"]


def test_file_with_byte_order_mark_loads(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + build_yaml().encode())
    assert "restart" in load_catalog(path).commands


def test_catalog_source_is_the_path(tmp_path):
    path = tmp_path / "opsgate.yaml"
    path.write_text(build_yaml())
    assert load_catalog(path).source == str(path)


def test_yaml_syntax_error_has_its_line():
    text = "version: 1\nenvironments:\n  - name: dev\n    region: eu-west-1: x\n"
    assert problems_of(text) == ["opsgate.yaml:4 YAML syntax error (column 22): mapping values are not allowed here"]


def test_unclosed_quote_names_where_it_started():
    text = "version: 1\npeople:\n  - id: 'alice\n"
    [problem] = problems_of(text)
    assert problem.startswith("opsgate.yaml:4 YAML syntax error")
    assert "found unexpected end of stream (it started on line 3)" in problem


def test_control_characters_are_not_yaml():
    assert problems_of("version: 1\nx: \x07\n") == ["opsgate.yaml:2 is not YAML text: special characters are not allowed (character #x7)"]


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n", "---\n"])
def test_empty_file(text):
    assert problems_of(text) == [
        "opsgate.yaml:1 is empty; expected a mapping with version, environments, people, roles and commands"
    ]


@pytest.mark.parametrize("text", ["- a\n- b\n", "just words\n", "42\n"])
def test_top_level_must_be_a_mapping(text):
    assert problems_of(text) == [
        "opsgate.yaml:1 the top level must be a mapping with keys version, environments, people, roles and commands"
    ]


def test_more_than_one_document():
    [problem] = problems_of("version: 1\n---\nversion: 1\n")
    assert problem.startswith("opsgate.yaml:2 YAML syntax error (column 1): expected a single document in the stream")


def test_duplicate_top_level_key():
    text = build_yaml() + "version: 1\n"
    assert problems_of(text) == [f"opsgate.yaml:{line_of(text, 'version: 1', 2)} version: duplicate key 'version' (first defined on line 1)"]


def test_duplicate_nested_key():
    text = build_yaml().replace("    class: mutate\n", "    class: mutate\n    class: read\n")
    first = line_of(text, "class: mutate")
    assert problems_of(text) == [f"opsgate.yaml:{first + 1} commands[0].class: duplicate key 'class' (first defined on line {first})"]


def test_duplicate_key_in_flow_mapping():
    text = build_yaml().replace("{slack: U1, console: alice}", "{slack: U1, slack: U9}")
    at = line_of(text, "slack: U9")
    assert problems_of(text) == [f"opsgate.yaml:{at} people[0].identities.slack: duplicate key 'slack' (first defined on line {at})"]


def test_aliases_are_refused():
    text = build_yaml().replace("[dev, sre]", "&runners [dev, sre]") + "  - name: other\n    roles: *runners\n"
    at = line_of(text, "*runners")
    found = problems_of(text)
    assert f"opsgate.yaml:{at} commands[1].roles: YAML aliases (*runners) are not supported; write the value out where it applies" in found
    assert not [p for p in found if "commands[1].roles:" in p and "alias" not in p], found  # no second complaint


def test_alias_bomb_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [*a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}, *a{i-1}]" for i in range(1, 10)]
    found = problems_of("\n".join(lines) + "\n")
    assert "opsgate.yaml:2 a1[0]: YAML aliases (*a0) are not supported; write the value out where it applies" in found


def test_undefined_alias_is_refused_like_any_alias():
    assert "opsgate.yaml:2 x: YAML aliases (*missing) are not supported; write the value out where it applies" in problems_of(
        "version: 1\nx: *missing\n"
    )


def test_merge_keys_are_refused():
    text = "version: 1\nenvironments:\n  - <<: {name: dev}\n    account: '111111111111'\n"
    assert "opsgate.yaml:3 environments[0]: YAML merge keys (<<) are not supported; write the keys out" in problems_of(text)


@pytest.mark.parametrize(
    ("value", "tag"),
    [("!!python/object:os.system ls", "!!python/object:os.system"), ("!!binary aGk=", "!!binary"), ("!custom x", "!custom")],
)
def test_unusual_tags_are_refused(value, tag):
    text = build_yaml().replace("summary: Restart a service", f"summary: {value}")
    at = line_of(text, "summary:")
    assert f"opsgate.yaml:{at} commands[0].summary: unsupported YAML tag {tag}" in problems_of(text)


def test_complex_keys_are_refused():
    assert "opsgate.yaml:2 mapping keys must be plain text" in problems_of("version: 1\n? [a, b]\n: 1\n")


def test_deep_nesting_is_refused():
    text = "version: 1\nx: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    [problem] = problems_of(text)
    assert problem.startswith(f"opsgate.yaml:2 YAML syntax error (column {MAX_DEPTH + 3}): nesting is deeper than {MAX_DEPTH} levels")


def test_huge_integer_is_a_problem_not_a_crash():
    text = build_yaml().replace("class: mutate", "class: mutate\n    rate_limit: {count: " + "9" * 5000 + ", per: 1h}")
    found = problems_of(text)
    assert any(p.startswith(f"opsgate.yaml:{line_of(text, 'rate_limit')} commands[0].rate_limit.count: cannot be read as !!int") for p in found), found


def test_times_stay_text_instead_of_base_60_numbers():
    # YAML 1.1 reads an unquoted 16:00 as 960; the catalog reads it as the time it looks like.
    text = build_yaml(
        environments='environments:\n  - name: prod\n    account: "222222222222"\n    region: eu-west-1\n'
        "    freezes:\n      - name: evening\n        weekly: {days: [fri], from: 16:00, to: 23:59}\n"
    )
    window = load_catalog_text(text).environments["prod"].freezes[0]
    assert (window.start_time.hour, window.start_time.minute, window.end_time.minute) == (16, 0, 59)


def test_keys_are_taken_literally():
    # `no:` would be the boolean False in YAML 1.1; as a key it is the text "no".
    text = build_yaml(environments='environments:\n  - name: "no"\n    account: "222222222222"\n    region: eu-west-1\n').replace(
        "    action:", "    environments:\n      no: {confirm: true}\n    action:"
    )
    catalog = load_catalog_text(text)
    assert catalog.commands["restart"].rules_for("no").confirm is True
