"""Model files reproduce their construction's certificate (issue 12, item 2).

For every construction ``tfapprox build`` offers, a model is built at a size whose weights
exceed 1e30 in absolute value, saved with ``Model.save``, reloaded with ``Model.load``, and
the realised error of the RELOADED model is certified (``certify_reloaded``) to lie within
the construction's certified enclosure up to a relative slack below 1e-15.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy

from tfapprox.api import build_construction
from tfapprox.verify.file_certificate import certify_reloaded, construction_enclosure
from tfapprox.verify.model import Model
from tfapprox.verify.model_file import save_spec, spec_from_dict, spec_to_dict

REL = 1e-15

#: (construction, options): every variant of ``tfapprox build``, at a size with weights > 1e30
CASES = [
    ("thm3.1", dict(lags="1,5,20", heads=256, rpe="lin")),
    ("thm3.1", dict(lags="1,3", heads=96, rpe="log")),
    ("thm4.1", dict(heads=96, rpe="lin")),
    ("thm4.1", dict(heads=96, rpe="log")),
    ("thm4.1", dict(heads=96, tmx=True)),
    ("thm4.4", dict(heads=64)),
    ("thm4.4", dict(heads=64, prop45=True)),
    ("thm5.1", dict(kernel="exp:0.7", heads=96)),
    ("thm5.1", dict(kernel="poly:3.5", heads=96)),
    ("thm5.1", dict(kernel="exp:0.7,exp:1.3", heads=128)),
]


def _max_abs_weight(spec) -> float:
    return max(abs(float(v)) for _, v in spec.parameters())


@pytest.mark.parametrize("name,options", CASES, ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in o.items())}"
                                                     for n, o in CASES])
def test_reloaded_file_reproduces_certificate(name: str, options: dict, tmp_path: Path) -> None:
    cons, model = build_construction(name, **options)
    path = tmp_path / "m.json"
    model.save(path)
    loaded = Model.load(path)
    assert _max_abs_weight(loaded.spec) > 1e30  # the file's weights are large: cancellation matters
    assert loaded.spec.metadata["precision_digits"] == model.required_digits
    lo, hi = construction_enclosure(cons)
    cert = certify_reloaded(cons, loaded.spec, enclosure=(lo, hi))
    assert cert.certified == (lo, hi)
    assert cert.lowered > 0  # the file did round some weights: the certificate is not vacuous
    assert cert.perturbation <= REL * hi
    assert cert.enclosure[0] >= lo - REL * hi and cert.enclosure[1] <= hi + REL * hi
    assert cert.enclosure[0] <= cert.enclosure[1]


def test_thm5_1_file_at_50_digits_is_refused() -> None:
    """The issue's reproduction: exp:0.7 with 96 heads written at 50 digits (weights 5e69)."""
    cons, model = build_construction("thm5.1", kernel="exp:0.7", heads=96)
    enc = construction_enclosure(cons)
    fifty = spec_from_dict(spec_to_dict(model.spec, digits=50))
    with pytest.raises(ValueError, match="does not reproduce the certificate"):
        certify_reloaded(cons, fifty, enclosure=enc)
    loose = certify_reloaded(cons, fifty, enclosure=enc, max_relative=float("inf"))
    assert loose.perturbation > 1.0  # the 50-digit file's output can move by more than the error itself
    good = certify_reloaded(cons, spec_from_dict(spec_to_dict(model.spec)), enclosure=enc)
    assert good.perturbation < 1e-20
    assert model.metadata["precision_digits"] >= 70 + 25


def test_certificate_refuses_a_different_model() -> None:
    cons, model = build_construction("thm3.1", lags="1,5", heads=64)
    doc = spec_to_dict(model.spec)
    doc["blocks"][0]["ffn"]["a"][0][0] = "7"  # a rational weight that is not the construction's
    with pytest.raises(ValueError, match="exact \\(rational\\) value"):
        certify_reloaded(cons, spec_from_dict(doc))


def test_certificate_sees_a_perturbed_value_weight() -> None:
    cons, model = build_construction("thm3.1", lags="1,5", heads=64)
    enc = construction_enclosure(cons)
    doc = spec_to_dict(model.spec)
    path = doc["lowered_parameters"]["paths"][-1]
    assert ".W_V" in path
    h = int(path.split("heads[")[1].split("]")[0])
    W_V = doc["blocks"][0]["attention"]["heads"][h]["W_V"]
    i, j = next((i, j) for i, row in enumerate(W_V) for j, v in enumerate(row) if v != "0")
    W_V[i][j] = str(sympy.Rational(W_V[i][j]) * (1 + sympy.Rational(1, 10 ** 12)))
    with pytest.raises(ValueError, match="does not reproduce"):
        certify_reloaded(cons, spec_from_dict(doc), enclosure=enc)
    cert = certify_reloaded(cons, spec_from_dict(doc), enclosure=enc, max_relative=float("inf"))
    assert cert.perturbation > 0 and cert.enclosure[1] > enc[1]


def test_save_spec_round_trip_is_exact_for_rational_models(tmp_path: Path) -> None:
    """TMX at small H has no lowered weight: the reloaded model IS the construction's (P = 0)."""
    cons, model = build_construction("thm4.1", heads=8, tmx=True)
    save_spec(model.spec, tmp_path / "m.json")
    cert = certify_reloaded(cons, Model.load(tmp_path / "m.json").spec)
    assert cert.perturbation == 0 and cert.lowered == 0 and cert.enclosure == cert.certified
