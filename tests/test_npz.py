"""Model files and maps a user names: what each loader says of a file that is not one."""

import shutil

import numpy as np
import pytest

from minml import MineralClassifier
from minml._resources import data_path
from minml.maps.read import read_map
from minml.unsupervised.latent import LatentModel

CLASSIFIER = data_path("default-v1.npz")
LATENT = data_path("latent-v1.npz")


@pytest.fixture()
def wrong_files(tmp_path):
    """A text file, a .npy array renamed .npz, and each shipped model (under a neutral name)."""
    text = tmp_path / "notes.npz"
    text.write_text("SiO2,MgO\n40,49\n")
    array = tmp_path / "array.npz"
    with open(array, "wb") as handle:
        np.save(handle, np.zeros((4, 4)))
    classifier = shutil.copy(CLASSIFIER, tmp_path / "classifier.npz")
    latent = shutil.copy(LATENT, tmp_path / "latent.npz")
    return {"text": text, "array": array, "classifier": classifier, "latent": latent}


@pytest.mark.parametrize(
    "load, what, other",
    [
        (MineralClassifier.load, "MIN-ML classifier model", "latent"),
        (LatentModel.load, "MIN-ML latent model", "classifier"),
    ],
)
def test_model_loaders_say_what_a_file_is_not(wrong_files, tmp_path, load, what, other):
    with pytest.raises(FileNotFoundError, match=f"No {what} file '.*missing.npz'"):
        load(tmp_path / "missing.npz")
    with pytest.raises(ValueError, match=f"'notes.npz' is not a {what}: it is no .npz archive"):
        load(wrong_files["text"])
    with pytest.raises(ValueError, match=f"'array.npz' is not a {what}: it holds one array"):
        load(wrong_files["array"])
    with pytest.raises(ValueError, match=f"'{other}.npz' is not a {what}: it has no "):
        load(wrong_files[other])
    mine = "classifier" if other == "latent" else "latent"
    assert load(wrong_files[mine]).oxides == load(CLASSIFIER if mine == "classifier" else LATENT).oxides


def test_map_archive_that_is_not_one(wrong_files):
    with pytest.raises(ValueError, match=r"'notes.npz' is not a map \(one array per element or oxide\): it is no"):
        read_map(wrong_files["text"])
    with pytest.raises(ValueError, match="'array.npz' is not a map .*: it holds one array"):
        read_map(wrong_files["array"])
