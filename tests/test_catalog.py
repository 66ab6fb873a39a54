"""catalog: search path, overrides by name, aliases, and reports of broken files."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from kinetics_cli.catalog import bundled_root, load_catalog, search_path, user_root
from kinetics_cli.errors import CatalogError, SpecError
from kinetics_cli.tomlio import dumps_toml, read_toml


def test_search_path_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("KINETICS_PATH", f"{a}{os.pathsep}{b}")
    origins = [(s.origin, s.root) for s in search_path([tmp_path / "c"])]
    assert [o for o, _ in origins] == [
        "bundled",
        "user",
        "KINETICS_PATH",
        "KINETICS_PATH",
        "--catalog",
    ]
    assert origins[2][1] == a and origins[3][1] == b and origins[4][1] == tmp_path / "c"


def test_user_root_follows_xdg(isolated_env: Path) -> None:
    assert user_root() == isolated_env / "kinetics"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux folder layout")
def test_user_root_without_xdg_is_dot_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert user_root() == tmp_path / ".config" / "kinetics"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux folder layout")
@pytest.mark.parametrize("xdg", ["", "  ", "relative/config"])
def test_user_root_ignores_an_empty_or_relative_xdg(
    xdg: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The XDG Base Directory specification: a relative path in XDG_CONFIG_HOME is invalid and
    ignored. Read literally, an empty one gave Path('kinetics') and a relative one
    Path('relative/config/kinetics'): a user catalog that moved with the working folder, and
    `models import` writing into it."""
    monkeypatch.setenv("XDG_CONFIG_HOME", xdg)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert user_root() == tmp_path / ".config" / "kinetics"
    assert user_root().is_absolute()


def test_bundled_catalog_is_found() -> None:
    assert (bundled_root() / "hardware_profiles" / "b200.toml").is_file()
    catalog = load_catalog()
    assert catalog.hardware.get("B200").origin == "bundled"


def test_extra_folder_adds_and_resolves_aliases(tiny_catalog: Path) -> None:
    catalog = load_catalog([tiny_catalog])
    entry = catalog.models.get("EXAMPLE/tiny-lm")
    assert entry.spec.name == "tiny-lm" and entry.origin == "--catalog"
    assert catalog.hardware.get("Tiny").spec.peak_flops["fp8"] == 2e15


def test_later_folder_overrides_by_name(tiny_catalog: Path, isolated_env: Path) -> None:
    user = isolated_env / "kinetics" / "hardware_profiles"
    user.mkdir(parents=True)
    text = (tiny_catalog / "hardware_profiles" / "tiny-gpu.toml").read_text()
    (user / "tiny-gpu.toml").write_text(
        text.replace('hbm_bandwidth = "2T"', 'hbm_bandwidth = "1T"')
    )
    # user folder alone: 1 TB/s; --catalog comes later and wins with 2 TB/s
    assert load_catalog().hardware.get("tiny-gpu").spec.hbm_bandwidth == 1e12
    entry = load_catalog([tiny_catalog]).hardware.get("tiny-gpu")
    assert entry.spec.hbm_bandwidth == 2e12 and entry.path.is_relative_to(tiny_catalog)


def user_profile_folder(env: Path) -> Path:
    """The user catalog's hardware folder, made."""
    folder = env / "kinetics" / "hardware_profiles"
    folder.mkdir(parents=True)
    return folder


def bundled_profile(name: str) -> dict:  # type: ignore[type-arg]
    """A bundled profile's TOML data, to edit and write as a user profile."""
    return read_toml(bundled_root() / "hardware_profiles" / f"{name}.toml")


def test_user_can_override_a_bundled_entry(isolated_env: Path) -> None:
    folder = user_profile_folder(isolated_env)
    data = bundled_profile("b200")
    data["hbm_bandwidth"] = 7.7e12
    (folder / "my-b200.toml").write_text(dumps_toml(data))
    entry = load_catalog().hardware.get("b200")
    assert entry.origin == "user" and entry.spec.hbm_bandwidth == 7.7e12


def test_a_toml_file_with_a_byte_order_mark_reads(isolated_env: Path) -> None:
    """Some editors start UTF-8 files with a byte-order mark; TOML does not allow it, but it
    carries no meaning, so it is skipped (as the evaluation readers skip it)."""
    folder = user_profile_folder(isolated_env)
    data = bundled_profile("b200")
    data["name"], data["aliases"] = "bom-b200", []
    (folder / "bom-b200.toml").write_bytes(b"\xef\xbb\xbf" + dumps_toml(data).encode("utf-8"))
    assert load_catalog().hardware.get("bom-b200").spec.hbm_bandwidth == data["hbm_bandwidth"]


def test_an_override_of_a_bundled_entry_is_reported(isolated_env: Path) -> None:
    """A user profile named like a bundled one changes every figure priced on it: say so."""
    folder = user_profile_folder(isolated_env)
    data = bundled_profile("h100-sxm")
    data["price_per_gpu_hour"] = 0.5
    (folder / "h100-sxm.toml").write_text(dumps_toml(data))
    catalog = load_catalog()
    lines = [w for w in catalog.warnings if "replaces the hardware profile 'h100-sxm'" in w]
    assert len(lines) == 1
    assert str(folder / "h100-sxm.toml") in lines[0] and "(user)" in lines[0]
    assert "(bundled)" in lines[0]
    # the user folder given again as --catalog: the same file, which replaces nothing new
    again = load_catalog([isolated_env / "kinetics"]).warnings
    assert sum("replaces" in w for w in again) == 1
    (folder / "h100-sxm.toml").unlink()
    assert not any("replaces" in w for w in load_catalog().warnings)


def test_an_override_keeps_the_aliases_of_what_it_replaces(isolated_env: Path) -> None:
    """A user card named qwen3-8b without aliases still answers to the bundled card's aliases."""
    folder = isolated_env / "kinetics" / "model_cards"
    folder.mkdir(parents=True)
    data = read_toml(bundled_root() / "model_cards" / "qwen3-8b.toml")
    data["aliases"] = []
    data["architecture"]["layers"] = 40
    (folder / "mine.toml").write_text(dumps_toml(data))
    catalog = load_catalog()
    for alias in ("qwen3-8b", "Qwen/Qwen3-8B", "qwen3:8b", "mine"):
        entry = catalog.models.get(alias)
        assert entry.origin == "user" and entry.spec.architecture.layers == 40, alias


def test_unknown_name_suggests_closest(tiny_catalog: Path) -> None:
    catalog = load_catalog([tiny_catalog])
    with pytest.raises(CatalogError, match=r"unknown model 'tiny-l'; closest: tiny-lm"):
        catalog.models.get("tiny-l")


def test_bad_user_file_is_skipped_and_reported(tiny_catalog: Path) -> None:
    (tiny_catalog / "model_cards" / "broken.toml").write_text("name = broken\n")
    (tiny_catalog / "model_cards" / "wrong.toml").write_text(
        'name = "wrong"\nfamily = "x"\nsources = ["s"]\n[architecture]\nlayers = "many"\n'
    )
    catalog = load_catalog([tiny_catalog])
    assert catalog.models.find("tiny-lm") is not None
    skipped = "\n".join(catalog.skipped)
    assert "broken.toml: not valid TOML" in skipped and "line" in skipped
    assert "wrong.toml: architecture.layers" in skipped


def test_missing_catalog_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no such folder"):
        load_catalog([tmp_path / "nowhere"])


def test_unknown_key_names_file_and_field(tmp_path: Path) -> None:
    from kinetics_cli.catalog import load_spec
    from kinetics_cli.specs import HardwareProfile

    path = tmp_path / "x.toml"
    path.write_text(
        'name = "x"\nvendor = "v"\npeak_flops = {bf16 = 1e15}\nhbm_bandwidth = 1e12\n'
        'hbm_capacity = 1e9\nsources = ["s"]\nhbm_bandwith = 3\n'
    )
    with pytest.raises(SpecError, match=r"x\.toml: hbm_bandwith: unknown key"):
        load_spec(path, HardwareProfile)


def test_toml_writer_round_trips(tmp_path: Path) -> None:
    data = {"name": "q", "n": 3, "f": 2.5e15, "ok": True, "xs": [1, 2], "t": {"a": 's"q'}}
    path = tmp_path / "r.toml"
    path.write_text(dumps_toml(data, header="made by a test"))
    assert read_toml(path) == data
    assert path.read_text().startswith("# made by a test\n")


# ---- bad user files: named, located, and never hiding the rest --------------------------------


def test_bad_quantity_string_is_a_field_error_not_a_crash(tiny_catalog: Path) -> None:
    """A suffixed number that does not parse is a schema error of that field: the file is skipped
    with its line, and the rest of the catalog still loads."""
    text = (tiny_catalog / "hardware_profiles" / "tiny-gpu.toml").read_text()
    (tiny_catalog / "hardware_profiles" / "bad-gpu.toml").write_text(
        text.replace('"tiny-gpu"', '"bad-gpu"')
        .replace('["tiny"]', "[]")
        .replace('hbm_bandwidth = "2T"', 'hbm_bandwidth = "3X"')
    )
    catalog = load_catalog([tiny_catalog])
    assert catalog.hardware.find("tiny-gpu") is not None
    (message,) = catalog.skipped
    # TINY_HARDWARE starts with a blank line: name is line 2, hbm_bandwidth line 6
    assert "bad-gpu.toml: hbm_bandwidth: cannot read '3X' as a number" in message
    assert "(got '3X', line 6)" in message
    with pytest.raises(CatalogError, match=r"skipped .*bad-gpu\.toml: "):
        catalog.hardware.get("bad-gpu")


def test_field_errors_give_the_line_in_tables(tiny_catalog: Path) -> None:
    (tiny_catalog / "model_cards" / "wrong.toml").write_text(
        'name = "wrong"\nfamily = "x"\nsources = ["s"]\n\n[architecture]\nlayers = 0\n'
        "hidden_size = 64\n"
    )
    (message,) = load_catalog([tiny_catalog]).skipped
    assert "wrong.toml: architecture.layers: must be between 1 and 1,000" in message
    assert "(got 0, line 6)" in message
    assert "architecture.vocab_size: Field required" in message  # missing: no line to give


def test_validator_messages_lose_pydantics_prefix(tmp_path: Path) -> None:
    from kinetics_cli.catalog import load_spec
    from kinetics_cli.specs import HardwareProfile

    path = tmp_path / "x.toml"
    path.write_text(
        'name = "x"\nvendor = "v"\nhbm_bandwidth = 1e12\nhbm_capacity = 1e9\nsources = ["s"]\n'
        "[peak_flops]\nfp8 = 1e15\n"
    )
    with pytest.raises(SpecError, match=r"x\.toml: \(top level\): peak_flops must give 'bf16'"):
        load_spec(path, HardwareProfile)


def test_duplicate_name_in_one_folder_keeps_the_first(tiny_catalog: Path) -> None:
    text = (tiny_catalog / "model_cards" / "tiny-lm.toml").read_text()
    (tiny_catalog / "model_cards" / "z-copy.toml").write_text(
        text.replace("layers = 2", "layers = 3")
    )
    catalog = load_catalog([tiny_catalog])
    assert catalog.models.get("tiny-lm").spec.architecture.layers == 2
    (message,) = catalog.skipped
    assert "z-copy.toml: name 'tiny-lm' is already used by" in message


def test_missing_kinetics_path_folder_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KINETICS_PATH", str(tmp_path / "gone"))
    catalog = load_catalog()
    assert catalog.skipped == [f"KINETICS_PATH folder {tmp_path / 'gone'} does not exist; ignored"]
    assert catalog.hardware.find("b200") is not None


def test_later_alias_wins_but_never_over_a_name(tiny_catalog: Path, isolated_env: Path) -> None:
    """A user profile that claims the alias `h100` takes it from the bundled h100-sxm; the name
    `h100-sxm` still resolves to the bundled profile."""
    folder = isolated_env / "kinetics" / "hardware_profiles"
    folder.mkdir(parents=True)
    text = (tiny_catalog / "hardware_profiles" / "tiny-gpu.toml").read_text()
    (folder / "my-h100.toml").write_text(
        text.replace('"tiny-gpu"', '"my-h100"').replace('["tiny"]', '["h100", "h100-sxm"]')
    )
    catalog = load_catalog()
    assert catalog.hardware.get("H100").spec.name == "my-h100"
    assert catalog.hardware.get("h100-sxm").origin == "bundled"
    assert catalog.hardware.get("h100-sxm5").spec.name == "h100-sxm"  # unclaimed aliases stay


def test_unreadable_files_are_skipped_not_fatal(tiny_catalog: Path) -> None:
    (tiny_catalog / "model_cards" / "latin1.toml").write_bytes(b'name = "caf\xe9"\n')
    (tiny_catalog / "model_cards" / "folder.toml").mkdir()
    catalog = load_catalog([tiny_catalog])
    assert catalog.models.find("tiny-lm") is not None
    skipped = sorted(catalog.skipped)
    assert skipped[0].endswith("folder.toml: cannot read: Is a directory")
    assert skipped[1].endswith("latin1.toml: not valid TOML: not UTF-8 text (byte 11)")


# ---- ambiguity: one warning line each ---------------------------------------------------------


def _hardware_copy(folder: Path, name: str, aliases: list[str]) -> None:
    """A copy of the bundled h100-sxm profile under another name and aliases."""
    text = (bundled_root() / "hardware_profiles" / "h100-sxm.toml").read_text()
    lines = [
        f'name = "{name}"'
        if line.startswith("name = ")
        else f"aliases = {aliases!r}".replace("'", '"')
        if line.startswith("aliases = ")
        else line
        for line in text.splitlines()
    ]
    (folder / "hardware_profiles").mkdir(parents=True, exist_ok=True)
    (folder / "hardware_profiles" / f"{name}.toml").write_text("\n".join(lines) + "\n")


def test_alias_taking_over_a_bundled_alias_warns(tmp_path: Path) -> None:
    _hardware_copy(tmp_path, "my-gpu", ["h100"])
    catalog = load_catalog([tmp_path])
    assert catalog.hardware.get("h100").spec.name == "my-gpu"  # later wins, as documented
    (line,) = catalog.warnings
    assert "alias 'h100' of 'my-gpu' is also claimed by 'h100-sxm'" in line
    assert "'h100' now means 'my-gpu'" in line


def test_alias_naming_another_entry_warns_and_loses(tmp_path: Path) -> None:
    _hardware_copy(tmp_path, "my-gpu", ["b200"])
    catalog = load_catalog([tmp_path])
    assert catalog.hardware.get("b200").spec.name == "b200"  # a name wins over an alias
    (line,) = catalog.warnings
    assert "alias 'b200' of 'my-gpu' is the name of the hardware profile" in line


def test_two_user_entries_claiming_one_alias_warn(tmp_path: Path) -> None:
    _hardware_copy(tmp_path, "gpu-a", ["fast"])
    _hardware_copy(tmp_path, "gpu-b", ["fast"])
    (line,) = load_catalog([tmp_path]).warnings
    assert "alias 'fast' of 'gpu-b' is also claimed by 'gpu-a'" in line


def test_bundled_catalog_has_no_ambiguous_alias() -> None:
    assert load_catalog().warnings == []


def test_catalog_folder_without_subfolders_warns(tmp_path: Path) -> None:
    catalog = load_catalog([tmp_path])
    assert catalog.skipped == [
        f"--catalog folder {tmp_path} has neither hardware_profiles/ nor model_cards/; "
        "nothing loaded from it"
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("layers = " + "1" + "0" * 30, "layers: must be between 1 and 1,000"),
        ("layers = " + "9" * 5000, "not valid TOML for this tool"),
        ("layers = true", "expected a whole number, got a boolean"),
        ('layers = "32"', "expected a whole number, got text"),
        ("layers = 32.0", "expected a whole number (an integer such as 32)"),
        ("layers = 1e20", "expected a whole number (an integer such as 32)"),
        ("layers = 2\nweight_bytes = inf", "weight_bytes: expected a finite number"),
        ("layers = 2\nmax_position_embeddings = 1e999", "expected a whole number"),
    ],
)
def test_card_values_outside_their_range_are_refused(
    tiny_catalog: Path, line: str, message: str
) -> None:
    card = tiny_catalog / "model_cards" / "tiny-lm.toml"
    card.write_text(card.read_text().replace("layers = 2", line))
    (skipped,) = load_catalog([tiny_catalog]).skipped
    assert message in skipped
    assert len(skipped) < 400  # a 5000-digit integer is not echoed back


def test_profile_values_outside_their_range_are_refused(tiny_catalog: Path) -> None:
    profile = tiny_catalog / "hardware_profiles" / "tiny-gpu.toml"
    text = profile.read_text()
    for old, new, message in [
        ("gpus_per_node = 8", "gpus_per_node = 1e23", "expected a whole number"),
        ("gpus_per_node = 8", "gpus_per_node = 100000", "must be between 1 and 1,024"),
        ('hbm_bandwidth = "2T"', "hbm_bandwidth = inf", "expected a finite number"),
        ("bf16 = 1.0e15", "bf16 = 1e308", "must be between 1 and 1e18"),
    ]:
        assert old in text
        profile.write_text(text.replace(old, new))
        (skipped,) = load_catalog([tiny_catalog]).skipped
        assert message in skipped, skipped


# ---- lazy bundled entries -----------------------------------------------------------------------


def test_every_bundled_file_is_indexed_as_its_validated_name_and_aliases() -> None:
    """The cheap index (top-level name and one-line aliases) agrees with the validated spec for
    every bundled file, so no bundled file needs parsing before it is used."""
    from kinetics_cli.catalog import bundled_root, index_entry

    for entry in [*load_catalog().hardware, *load_catalog().models]:
        assert entry.origin == "bundled"
        assert index_entry(entry.path) == (entry.spec.name, tuple(entry.spec.aliases))
    assert len(list((bundled_root() / "model_cards").glob("*.toml"))) == len(load_catalog().models)


def test_bundled_entries_are_validated_on_first_use() -> None:
    catalog = load_catalog()
    entry = catalog.models.get("qwen3-8b")
    assert entry._spec is None  # indexed, not yet read
    assert entry.spec.architecture.layers == 36
    assert entry._spec is not None and catalog.models.get("Qwen/Qwen3-8B") is entry


def test_index_falls_back_to_reading_the_whole_file(tmp_path: Path) -> None:
    """Names and aliases written in ways the index does not read are left to the full parse."""
    from kinetics_cli.catalog import index_entry

    path = tmp_path / "x.toml"
    path.write_text('name = "x"\naliases = [\n  "y",  # why\n  "#z",\n]\n[t]\nname = "z"\n')
    assert index_entry(path) == ("x", ("y", "#z"))
    path.write_text('name = "x"\naliases = ["a\\"b"]\n')
    assert index_entry(path) is None
    path.write_text('name = "x" # the key\naliases = ["y", "w"]  # others\n[t]\nname = "z"\n')
    assert index_entry(path) == ("x", ("y", "w"))
    path.write_text("name = 'x'\n")
    assert index_entry(path) is None


def test_user_card_off_its_published_figures_warns(tiny_catalog: Path) -> None:
    """tiny-lm derives 203,584 parameters (tests/conftest.py): a [published] total of 150,000
    is +35.7% away (203,584 / 150,000 - 1 = 0.357), far beyond rounding, so the card (or its
    published table) is wrong and every cost priced on it with it; one that agrees is quiet."""
    card = tiny_catalog / "model_cards" / "tiny-lm.toml"
    card.write_text(card.read_text() + '\n[published]\ntotal_params = 150000\nsource = "s"\n')
    (line,) = load_catalog([tiny_catalog]).warnings
    assert line.startswith(f"{card} (--catalog): model 'tiny-lm' does not match its [published]")
    assert "total_params derived 203,584, published 150,000 (+35.7%)" in line
    assert "more than 2% apart" in line
    card.write_text(card.read_text().replace("150000", "203600"))
    assert load_catalog([tiny_catalog]).warnings == []


def test_cli_flags_a_user_card_off_its_published_figures(tiny_catalog: Path) -> None:
    from typer.testing import CliRunner

    from kinetics_cli.cli.main import app

    card = tiny_catalog / "model_cards" / "tiny-lm.toml"
    card.write_text(card.read_text() + '\n[published]\ntotal_params = 150000\nsource = "s"\n')
    result = CliRunner().invoke(app, ["--catalog", str(tiny_catalog), "models", "show", "tiny-lm"])
    assert result.exit_code == 0
    assert "does not match its [published] figures" in result.stderr
    assert "derived +35.7%: more than 2% apart, check the card" in result.stdout
    result = CliRunner().invoke(
        app, ["--catalog", str(tiny_catalog), "models", "show", "tiny-lm", "--json"]
    )
    (check,) = json.loads(result.stdout)["published_check"]
    assert check["figure"] == "total_params" and check["within_tolerance"] is False
    assert check["relative_difference"] == pytest.approx(203_584 / 150_000 - 1)
