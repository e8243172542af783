from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opsgate.core.builtins import builtin_commands
from opsgate.core.parser import MAX_LINE_CHARS, parse_line
from opsgate.errors import ParseError
from tests.factories import ENVS, commands

COMMANDS = {**commands(), **builtin_commands(ENVS)}


def parse(text: str):
    return parse_line(text, COMMANDS)


def test_key_value_parameters_are_typed_and_normalised():
    line = parse("/ops rollback service=WEB env=Prod reason=\"bad deploy\"")
    assert line.command.name == "rollback"
    assert line.params == {"service": "web", "env": "prod", "reason": "bad deploy"}


def test_positional_values_fill_parameters_in_order():
    assert parse("deploy status api staging").params == {"service": "api", "env": "staging"}


def test_two_word_command_wins_over_one_word_prefix():
    assert parse("Cache Flush env=dev").command.name == "cache flush"


def test_flags_dry_run_link_and_break_glass():
    line = parse('rollback web prod --dry-run --link https://github.com/acme/web/pull/7 --break-glass "site down"')
    assert (line.dry_run, line.link, line.break_glass) == (True, "https://github.com/acme/web/pull/7", "site down")
    assert parse("rollback web prod --link=https://x.example/1").link == "https://x.example/1"


def test_smart_quotes_from_chat_clients_are_understood():
    assert parse("rollback web prod reason=\u201cslow pages\u201d").params["reason"] == "slow pages"


def test_empty_line_means_help():
    assert parse("/ops").command.name == "help"


def test_unknown_command_suggests_close_names():
    with pytest.raises(ParseError) as err:
        parse("rollbak web prod")
    assert "Unknown command `rollbak" in str(err.value) and "`rollback`" in str(err.value)


def test_first_word_of_a_two_word_command_suggests_it():
    with pytest.raises(ParseError, match="deploy status"):
        parse("deploy web")


def test_missing_parameter_names_it_and_what_is_allowed():
    with pytest.raises(ParseError) as err:
        parse("rollback service=web")
    assert "Missing parameter `env`: one of dev, staging, prod" in str(err.value)
    assert "Usage: rollback" in str(err.value)


def test_invalid_enum_value_says_allowed_values_and_suggests():
    with pytest.raises(ParseError) as err:
        parse("rollback service=web env=prdo")
    assert "`prdo` must be one of dev, staging, prod" in str(err.value)
    assert "Did you mean `prod`" in str(err.value)


def test_unknown_parameter_is_refused_with_usage():
    with pytest.raises(ParseError, match="(?s)has no parameter `servce`.*Did you mean `service`"):
        parse("rollback servce=web env=prod")


def test_duplicate_parameter_is_refused():
    with pytest.raises(ParseError, match="given twice"):
        parse("rollback service=web service=api env=dev")


def test_too_many_positional_values():
    with pytest.raises(ParseError, match="Unexpected value `extra`"):
        parse("deploy status web dev extra")


def test_unknown_option():
    with pytest.raises(ParseError, match="Unknown option `--force`"):
        parse("rollback web dev --force")


def test_option_without_value():
    with pytest.raises(ParseError, match="`--link` needs a URL"):
        parse("rollback web dev --link")


def test_secret_values_are_never_echoed_in_errors():
    with pytest.raises(ParseError) as err:
        parse("secret rotate name=db value=" + "x" * 300 + " env=dev")
    assert "xxx" not in str(err.value)


def test_overlong_line_is_refused():
    with pytest.raises(ParseError, match=f"limit is {MAX_LINE_CHARS}"):
        parse("help " + "a" * MAX_LINE_CHARS)


@pytest.mark.parametrize("char", ["\x00", "\x1b", "\x7f", "\u202e"])
def test_control_characters_are_refused(char):
    with pytest.raises(ParseError, match="control character"):
        parse(f"rollback web{char} dev")


def test_unbalanced_quotes_are_refused_clearly():
    with pytest.raises(ParseError, match="no closing quotation"):
        parse('rollback web dev reason="oops')


def test_explain_takes_the_rest_of_the_line_verbatim():
    assert parse("explain rollback web prod --dry-run").params == {"line": "rollback web prod --dry-run"}


def test_integer_range():
    with pytest.raises(ParseError, match="must be a whole number >= 1 and <= 50"):
        parse("audit last=0")
    assert parse("audit last=5").params["last"] == 5


WORDS = st.sampled_from(["rollback", "deploy", "status", "env=prod", "service=web", "--dry-run", "--link", '"', "'",
                         "=", "--break-glass", "help", "explain", "approve", "r-abcdefgh", "cache", "flush", "\\"])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(WORDS, max_size=12).map(" ".join)))
def test_parser_never_raises_anything_but_parse_error(text):
    try:
        parsed = parse(text)
    except ParseError as err:
        assert str(err)  # always a message to show
    else:
        assert parsed.command.name in COMMANDS
