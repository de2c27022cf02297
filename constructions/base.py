"""The one base type of every construction result (Wang & E 2024, Theorems 3.1, 4.1, 4.4, 5.1, Props. 4.2, 4.5).

Each builder (:func:`~tfapprox.constructions.thm3_1.build_thm3_1`, ...) returns a frozen dataclass
derived from :class:`Construction`: the exact weights (``spec``), the target the proof
approximates, the RPE type (``rpe``, kept as the string the reports print; logic asks
:attr:`Construction.family`), and the construction's own fields (kernels, head allocation, FFN
accuracies, ...).  The base supplies what they share: the family, the metadata, the number of
heads, the short ``repr`` and the notebook displays (HTML and Markdown summary tables; the full
data stay in the fields).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tfapprox.theory.architecture import TransformerSpec
from tfapprox.theory.families import KernelFamily, kernel_family

from tfapprox.theory.display import summary_html, summary_markdown, summary_repr

__all__ = ["Construction"]


@dataclass(frozen=True, repr=False)
class Construction:
    """Base of the construction results: ``spec``, ``target``, ``rpe`` plus the subclass's fields.

    Attributes
    ----------
    spec : TransformerSpec or None
        The exact weights (``None`` only for a Theorem 5.1 result built with ``with_spec=False``).
    target
        The target the construction approximates (:mod:`tfapprox.theory.targets`).
    rpe : str
        The kernel family's name (``"lin"`` or ``"log"``), as the reports print it.

    Subclasses are frozen dataclasses declared with ``repr=False`` (they keep this ``repr``) and
    override :meth:`_summary` to show their own fields.
    """

    spec: TransformerSpec | None
    target: Any
    rpe: str

    @property
    def family(self) -> KernelFamily:
        """The kernel family (:mod:`tfapprox.theory.families`) the heads realise."""
        return kernel_family(self.rpe)

    @property
    def metadata(self) -> dict[str, Any]:
        """The spec's metadata (provenance, allocation, digits); ``{}`` without a spec."""
        return dict(self.spec.metadata) if self.spec is not None else {}

    @property
    def paper(self) -> str | None:
        """Where in the paper the construction comes from (``metadata["paper"]``)."""
        return self.metadata.get("paper")

    @property
    def num_heads(self) -> int:
        """Total number of attention heads over all layers (without a spec: the sum of ``heads_per_memory``)."""
        if self.spec is not None:
            return int(sum(self.spec.num_heads))
        return int(sum(getattr(self, "heads_per_memory", ()) or ()))

    def _summary(self) -> dict[str, Any]:
        """The ordered short summary behind ``repr`` and the notebook displays."""
        return {"rpe": self.rpe, "H": self.num_heads, "digits": self.metadata.get("precision_digits")}

    def __repr__(self) -> str:
        return summary_repr(type(self).__name__, self._summary())

    def _repr_html_(self) -> str:
        """Jupyter display: a summary table (the weights are in ``.spec``)."""
        return summary_html(type(self).__name__, self._summary(), "exact weights: .spec; full data: the fields")

    def _repr_markdown_(self) -> str:
        """Markdown display (notebooks, docs): the same summary as a table."""
        return summary_markdown(type(self).__name__, self._summary(), "exact weights: `.spec`; full data: the fields")
