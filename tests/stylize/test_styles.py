"""Named styles, the --style grammar, style vectors, and what a painting does to a frame."""

from __future__ import annotations

import hashlib
import http.server
import threading
from functools import partial

import pytest
import torch

from vidstyle.cli import styles as styles_cli
from vidstyle.errors import ResourceUnavailableError, StyleNotFoundError, UserInputError
from vidstyle.stylize.feedforward import MagentaStylizer, StyleVectorComputer, preserve_colour
from vidstyle.stylize.nets import CIN_PARAM_DIM
from vidstyle.stylize.styles import (
    CIN26,
    MAGENTA,
    all_presets,
    preset_params,
    read_preset,
    resolve_style,
    write_preset,
)
from vidstyle.synth import synth_frames

REQUIRED = ("starry_night", "the_wave", "the_scream", "composition_vii", "udnie")


def _no_image(_image):
    raise AssertionError("a preset must not need its painting")


@pytest.fixture(scope="module")
def vectors():
    return StyleVectorComputer("cpu")


class TestPresets:
    def test_required_presets_load_without_images(self):
        presets = all_presets()
        for name in REQUIRED:
            choice = resolve_style(name, _no_image)
            if choice.family == MAGENTA:
                assert choice.magenta_vector.shape == (1, 100)
            else:  # a learned CIN style, with its Magenta vector kept for the arbitrary network
                assert choice.family == CIN26 and choice.cin_weights.shape == (CIN_PARAM_DIM,)
                assert presets[name].params.is_file() and len(presets[name].vector) == 100
            assert presets[name].licence.startswith("public domain")

    def test_toml_writer_escapes(self, tmp_path):
        """Quotes, backslashes and newlines in names and titles survive the round trip (no f-string TOML)."""
        fields = {"name": 'say "hi"', "family": MAGENTA, "title": 'C:\\paint\\ings "1" \n two',
                  "artist": "O'Keeffe", "vector": [0.5] * 100}
        path = tmp_path / "odd.toml"
        write_preset(path, fields, comment="made by a test\nsecond line")
        preset = read_preset(path)
        assert (preset.name, preset.title, preset.artist) == (fields["name"], fields["title"], fields["artist"])
        assert preset.vector == (0.5,) * 100
        assert path.read_text().startswith("# made by a test\n# second line\n")

    def test_blend_interpolates_styles(self):
        presets = all_presets()
        a, b = (preset_params(presets[n]) if presets[n].family == CIN26 else torch.tensor(presets[n].vector)
                for n in ("starry_night", "the_wave"))
        choice = resolve_style("starry_night:0.7,the_wave:0.3", _no_image)
        blend = choice.cin_weights if choice.family == CIN26 else choice.magenta_vector[0]
        assert torch.allclose(blend, 0.7 * a + 0.3 * b, atol=1e-6)

    def test_cin_blend_is_the_networks_mix(self):
        """Built-in blends paint bit-identically to the network mixing its 26 styles (weights sum to 1)."""
        from vidstyle.stylize.weights import load_cin26

        choice = resolve_style("blue_yellow_swirls:3,red_ember_strokes:1", _no_image)
        assert choice.family == CIN26 and choice.cin_weights.shape == (CIN_PARAM_DIM,)
        weights = torch.zeros(26)
        weights[19], weights[20] = 0.75, 0.25
        net, x = load_cin26("cpu"), torch.rand(1, 3, 32, 48, generator=torch.Generator().manual_seed(1))
        with torch.no_grad():
            assert torch.equal(net(x, choice.cin_weights), net(x, weights))

    def test_mixing_families_is_refused(self, tmp_path, monkeypatch):
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
        write_preset(tmp_path / "vidstyle" / "styles" / "mine.toml",
                     {"name": "mine", "family": MAGENTA, "vector": [0.0] * 100})
        with pytest.raises(UserInputError, match="different families"):
            resolve_style("mine,blue_yellow_swirls", _no_image)

    def test_unknown_name_suggests(self):
        with pytest.raises(StyleNotFoundError, match="did you mean the_scream"):
            resolve_style("the_screem", _no_image)

    def test_bad_grammar(self):
        with pytest.raises(UserInputError, match="bad weight"):
            resolve_style("starry_night:lots", _no_image)


class TestStyleVector:
    def test_stable(self, vectors):
        image = synth_frames(1, 300, 200, seed=5)[0]
        assert torch.equal(vectors(image), vectors(image))

    def test_matches_stored_preset(self, vectors, shared_path):
        painting = shared_path("styles/starry_night.jpg")
        from vidstyle.io.reader import read_image

        stored = torch.tensor(all_presets()["starry_night"].vector).unsqueeze(0)
        assert torch.allclose(vectors(read_image(painting)), stored, atol=1e-4)


class TestFeedForwardLooks:
    def test_painting_lowers_gram_distance(self, shared_path):
        """Both networks bring a Big Buck Bunny frame much closer to the painting's Gram statistics than the
        input is; the learned CIN preset closer than the Magenta vector (README "Presets")."""
        from vidstyle.io.reader import open_source, read_image
        from vidstyle.learn.measure import StyleMeter
        from vidstyle.stylize.feedforward import Cin26Stylizer

        painting = read_image(shared_path("styles/starry_night.jpg"))
        frame = next(open_source(shared_path("videos/cutBunny.mp4"), start=2.5, max_frames=1).frames()).image
        preset = all_presets()["starry_night"]
        meter = StyleMeter(painting)
        content = torch.from_numpy(frame).permute(2, 0, 1).unsqueeze(0).float() / 255.0
        ratios = {}
        for name, stylizer in (("magenta", MagentaStylizer(torch.tensor(preset.vector))),
                               ("learned", Cin26Stylizer(preset_params(preset)))):
            with torch.no_grad():
                out = stylizer.stylize(content)[0].permute(1, 2, 0).numpy()
            ratios[name] = meter.measure(out, frame)[0]
        assert ratios["magenta"] < 0.5 and ratios["learned"] < 0.8 * ratios["magenta"], ratios

    def test_preserve_colour_keeps_chroma(self):
        content = torch.rand(1, 3, 16, 16)
        stylized = torch.rand(1, 3, 16, 16)
        import kornia

        out = preserve_colour(stylized, content)
        ycc_out, ycc_in = kornia.color.rgb_to_ycbcr(out), kornia.color.rgb_to_ycbcr(content)
        ycc_st = kornia.color.rgb_to_ycbcr(stylized)
        inside = (out > 0.01) & (out < 0.99)
        assert inside.all(dim=1).float().mean() > 0.5
        mask = inside.all(dim=1, keepdim=True)
        assert torch.allclose(ycc_out[:, :1][mask], ycc_st[:, :1][mask], atol=1e-4)
        assert torch.allclose(ycc_out[:, 1:][mask.expand(-1, 2, -1, -1)], ycc_in[:, 1:][mask.expand(-1, 2, -1, -1)],
                              atol=1e-4)


class TestFetch:
    @pytest.fixture
    def server(self, tmp_path):
        (tmp_path / "www").mkdir()
        handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "www"))
        httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield tmp_path / "www", f"http://127.0.0.1:{httpd.server_address[1]}"
        httpd.shutdown()

    def test_download_checked_by_sha256(self, server, tmp_path, monkeypatch):
        www, base = server
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
        payload = b"pretend this is The Starry Night"
        (www / "good.jpg").write_bytes(payload)
        (www / "bad.jpg").write_bytes(b"something else")
        presets = all_presets()
        fake = presets["starry_night"].__class__(**{**presets["starry_night"].__dict__,
                                                    "sha256": hashlib.sha256(payload).hexdigest(),
                                                    "source_url": f"{base}/good.jpg"})
        monkeypatch.setattr("vidstyle.stylize.styles.find_preset", lambda name: fake)
        with pytest.raises(ResourceUnavailableError, match="does not match its sha256"):
            styles_cli.fetch_painting("starry_night", url=f"{base}/bad.jpg")
        assert not (tmp_path / "cache" / "vidstyle" / "paintings" / "starry_night.jpg").exists()
        with pytest.raises(ResourceUnavailableError, match="cannot download"):
            styles_cli.fetch_painting("starry_night", url=f"{base}/missing.jpg")
        path = styles_cli.fetch_painting("starry_night")
        assert path.read_bytes() == payload
        assert styles_cli.fetch_painting("starry_night") == path  # cached: no second download
