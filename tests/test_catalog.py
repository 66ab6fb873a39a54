"""catalog: search path, overrides by name, aliases, and reports of broken files."""

from __future__ import annotations

from pathlib import Path

import pytest

from kinetics_cli.catalog import bundled_root, load_catalog, search_path, user_root
from kinetics_cli.errors import CatalogError, SpecError
from kinetics_cli.tomlio import dumps_toml, read_toml


def test_search_path_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("KINETICS_PATH", f"{a}{__import__('os').pathsep}{b}")
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


def test_user_can_override_a_bundled_entry(isolated_env: Path) -> None:
    folder = isolated_env / "kinetics" / "hardware_profiles"
    folder.mkdir(parents=True)
    data = read_toml(bundled_root() / "hardware_profiles" / "b200.toml")
    data["hbm_bandwidth"] = 7.7e12
    (folder / "my-b200.toml").write_text(dumps_toml(data))
    entry = load_catalog().hardware.get("b200")
    assert entry.origin == "user" and entry.spec.hbm_bandwidth == 7.7e12


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
