"""The glimpse command line and the Streamlit settings it passes."""

import tomllib
from pathlib import Path

from dashboard import cli

REPO = Path(__file__).resolve().parents[2]


def test_parser_has_every_command():
    parser = cli.build_parser()
    args = parser.parse_args(["dashboard", "--port", "9000"])
    assert args.port == 9000 and args.address == "127.0.0.1"
    assert parser.parse_args(["train", "vision", "--neuron", "all"]).neuron == "all"
    assert parser.parse_args(["data", "fetch", "fashion-mnist"]).name == "fashion-mnist"


def test_unknown_data_source_lists_known_ones(capsys):
    assert cli.main(["data", "fetch", "imagenet"]) == 2
    assert "fashion-mnist" in capsys.readouterr().err


def test_options_match_repository_config():
    config = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())
    flat = {
        f"{section}.{key}": value
        for section, values in config.items()
        for key, value in values.items()
    }
    for key, value in cli.STREAMLIT_OPTIONS.items():
        assert str(flat[key]).lower() == value.lower(), key
    assert flat["browser.gatherUsageStats"] is False


def test_train_without_data_says_how_to_get_it(monkeypatch, tmp_path, caplog):
    monkeypatch.setenv("GLIMPSE_DATA_DIR", str(tmp_path))
    assert cli.main(["train", "vision", "--neuron", "nasn"]) == 2
    assert "glimpse data fetch fashion-mnist" in caplog.text


def test_fetch_option_source_lacks_is_rejected(tmp_path, capsys):
    assert cli.main(["data", "fetch", "shd", "--game", "pong", "--dest", str(tmp_path)]) == 2
    assert "shd does not take --game" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_eval_vision_missing_data_named(tmp_path, caplog):
    missing = tmp_path / "no-such-folder"
    assert cli.main(["eval", "vision", "--data-dir", str(missing)]) == 2
    assert "no-such-folder" in caplog.text
    assert "glimpse data fetch fashion-mnist" in caplog.text
