"""The models step's selection by profile (`make models ARGS="--profile NAME"`, what `make demo` relies on to build
one model) names exactly the models the profile runs, as the core resolves them."""
import sys
from pathlib import Path

import pytest

from pose_ros.core.profiles import available_profiles, load_profile

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "devtools" / "models"))
import prepare_models  # noqa: E402


@pytest.mark.parametrize("name", available_profiles())
def test_a_profiles_models_are_the_ones_it_runs(name):
    config = load_profile(name)
    expected = {config.model}
    if config.mode != "bottom_up":
        expected.add(config.detector)
    if config.mode == "auto":
        expected.add(config.bottom_up_model)
    assert set(prepare_models.profile_models(name)) == expected


def test_an_unknown_profile_names_the_valid_ones():
    with pytest.raises(prepare_models.PrepareError, match="unknown profile 'nope'; valid: .*posenet"):
        prepare_models.profile_models("nope")
