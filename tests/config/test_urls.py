"""URL settings carry no credentials, and no problem line ever repeats a password."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsvc.config import load_settings
from feedsvc.config.validate import CREDENTIALS
from feedsvc.errors import ConfigError

SECRET = "hunter2"


def problems_of(tmp_path: Path, text: str, environ: dict[str, str] | None = None) -> list[str]:
    path = tmp_path / "feedsvc.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ or {})
    assert not any(SECRET in problem for problem in caught.value.problems), caught.value.problems
    return [problem.removeprefix(f"{path}:") for problem in caught.value.problems]


@pytest.mark.parametrize(("table", "line", "key"), [
    ("[server]", f'public_url = "https://bob:{SECRET}@feeds.example.org"', "server.public_url"),
    ("[server]", f'hub_url = "https://bob:{SECRET}@hub.example.org/"', "server.hub_url"),
    ("[server]", 'hub_url = "https://token@hub.example.org/"', "server.hub_url"),
    ("[[sources]]", f'base_url = "https://bob:{SECRET}@arabic.rt.com"', "sources[0].base_url"),
    ("[fetch]", f'contact_url = "https://bob:{SECRET}@example.org/contact"', "fetch.contact_url"),
])
def test_a_url_setting_with_credentials_is_refused_without_echo(
        tmp_path: Path, table: str, line: str, key: str) -> None:
    assert problems_of(tmp_path, f"{table}\n{line}\n") == [f"2: {key}: {CREDENTIALS}"]


@pytest.mark.parametrize(("line", "key"), [
    (f'feeds = ["/rss/", "https://bob:{SECRET}@arabic.rt.com/rss/"]', "feeds"),
    (f'feeds = ["//bob:{SECRET}@arabic.rt.com/rss/"]', "feeds"),
    (f'mirror_hosts = ["https://bob:{SECRET}@mirror.example.org"]', "mirror_hosts"),
    (f'mirror_hosts = ["bob:{SECRET}@mirror.example.org"]', "mirror_hosts"),
    (f'media_hosts = ["bob:{SECRET}@media.example.org"]', "media_hosts"),
])
def test_list_entries_with_credentials_are_refused_without_echo(tmp_path: Path, line: str, key: str) -> None:
    assert problems_of(tmp_path, f"[[sources]]\n{line}\n") == [
        f"2: sources[0].{key}: an entry {CREDENTIALS}"]


def test_an_at_sign_outside_the_host_part_is_no_credential(tmp_path: Path) -> None:
    path = tmp_path / "feedsvc.toml"
    path.write_text('[fetch]\ncontact_url = "mailto:ops@example.org"\n[[sources]]\n'
                    'feeds = ["/rss/", "https://arabic.rt.com/rss/@latest"]\n', encoding="utf-8")
    settings = load_settings(path, {})
    assert settings.fetch.contact_url == "mailto:ops@example.org"


def test_an_environment_override_with_credentials_is_refused_too(tmp_path: Path) -> None:
    assert problems_of(tmp_path, "", {"FEEDSVC_SERVER_PUBLIC_URL": f"https://bob:{SECRET}@x.org"}) == [
        f"0: server.public_url: {CREDENTIALS}"]


@pytest.mark.parametrize("url", [
    f"http://bob:{SECRET}/x@host",         # urlsplit reads the password as a port
    f"http://bob:{SECRET}@[::1",            # an IPv6 literal that does not close
    f"ftp://bob:{SECRET}@example.org",
])
def test_urls_that_do_not_parse_never_show_their_password(tmp_path: Path, url: str) -> None:
    [problem] = problems_of(tmp_path, f'[server]\nhub_url = "{url}"\n')
    assert problem.startswith("2: server.hub_url: ")


def test_a_password_in_a_value_of_the_wrong_type_is_not_shown(tmp_path: Path) -> None:
    assert problems_of(tmp_path, f'[[sources]]\nbase_url = ["https://bob:{SECRET}@arabic.rt.com"]\n') == [
        "2: sources[0].base_url: an array of 1: expected a string"]
    [problem] = problems_of(tmp_path, f'[server]\nhost = "h"\nport = "https://bob:{SECRET}@x"\n')
    assert problem == "3: server.port: 'https://…@x': expected a whole number"


def test_the_storage_url_may_carry_a_password_and_is_never_echoed(tmp_path: Path) -> None:
    path = tmp_path / "feedsvc.toml"
    url = f"postgresql://feedsvc:{SECRET}@db.internal:5432/feedsvc"
    path.write_text(f'[storage]\nurl = "{url}"\n', encoding="utf-8")
    assert load_settings(path, {}).storage.url == url
    for bad in (f"postgresql://feedsvc:{SECRET}@db.internal:port/feedsvc",
                f"mysql://feedsvc:{SECRET}@db.internal/feedsvc"):
        [problem] = problems_of(tmp_path, f'[storage]\nurl = "{bad}"\n')
        assert problem.startswith("2: storage.url: ")
    [problem] = problems_of(tmp_path, "", {"FEEDSVC_STORAGE_URL": f"postgres://u:{SECRET}@[::1"})
    assert problem == "0: storage.url: not a valid PostgreSQL URL (bad host or port)"
