import pytest

from ebami.drivers import DEFAULT_DRIVERS, KNOWN_DRIVERS, parse_drivers
from ebami.errors import InputError


def test_parses_comma_separated_names_in_order_without_repeats() -> None:
    assert parse_drivers("fluentd, json-file,fluentd") == ("fluentd", "json-file")


def test_accepts_a_list() -> None:
    assert parse_drivers(list(DEFAULT_DRIVERS)) == DEFAULT_DRIVERS


@pytest.mark.parametrize(
    "bad", ['"fluentd"', "fluentd;reboot", "fluent d", "$(id)", "Fluentd", "json-file'", ""]
)
def test_refuses_anything_but_known_names(bad: str) -> None:
    with pytest.raises(InputError) as exc:
        parse_drivers(["json-file", bad])
    assert str(exc.value) == (
        f"log driver {bad!r} is not accepted; accepted: {', '.join(KNOWN_DRIVERS)}"
    )


def test_refuses_an_empty_list() -> None:
    with pytest.raises(InputError, match="name at least one log driver"):
        parse_drivers([])
