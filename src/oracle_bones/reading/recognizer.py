"""`Recognizer`: a model folder (bundled, local or on the Hub) plus the one normalisation path."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

import torch

from .. import model as model_io
from ..data.readings import readings
from ..glyphs.glyph import to_tensor
from ..hub import download_model
from ..model import Head, pooled_features, standardise
from .inscription import Box, find_glyphs

BUNDLED = Path(__file__).resolve().parents[1] / "pretrained"


class Prediction(NamedTuple):
    label: str  # the graph's character
    score: float

    @property
    def readings(self) -> tuple[str, ...]:
        """The graph's own character, then the later words it also wrote (史: 事, 使, 吏)."""
        return readings().of(self.label)


class Recognizer:
    """Names a drawn oracle bone glyph: `Recognizer.from_pretrained().predict(image)`."""

    def __init__(self, loaded: model_io.LoadedModel, source: str | Path) -> None:
        self.model = loaded.model.eval().to(memory_format=torch.channels_last)  # faster on CPU
        self.labels = loaded.labels
        self.config = loaded.config
        self.source = source
        self.folder = loaded.path  # where the files were read: a Hub snapshot names its commit
        self.whole_glyph = Head.from_config(loaded.config)  # whole, part or several: helps `read`

    @classmethod
    def from_pretrained(cls, source: str | os.PathLike | None = None) -> Recognizer:
        """A Hub repo id or a local folder; default `OBS_MODEL`, else the bundled model.

        Hub downloads are bounded in time and raise `hub.HubUnavailable` on failure.
        """
        source = source or os.environ.get("OBS_MODEL") or BUNDLED
        path = Path(source)
        if not path.is_dir():
            if Path(str(source)).exists() or str(source).count("/") != 1:
                raise model_io.ModelFileError(f"{source}: not a model folder nor a Hub repo id")
            path = download_model(str(source))
        return cls(model_io.load(path), source)

    def predict(self, image: Any, top_k: int = 10) -> list[Prediction]:
        """Top `top_k` characters for one glyph, best first (raises EmptyDrawing/InvalidImage)."""
        return self.predict_batch([image], top_k)[0]

    def predict_batch(self, images: Sequence[Any], top_k: int = 10) -> list[list[Prediction]]:
        """One forward pass for many glyphs (raises on the first unusable one)."""
        if not images:
            return []
        return self.rank(torch.stack([to_tensor(im) for im in images]), top_k)

    def read(self, image: Any, top_k: int = 5) -> list[tuple[Box, list[Prediction]]]:
        """The glyphs of a picture of several, in reading order: (box, top `top_k`) each, the
        box in the picture's pixels (raises EmptyDrawing/InvalidImage).

        Every candidate glyph is ranked once, while the strokes are grouped: how sure the model
        is of it (its top probability, times what its whole-glyph head makes of it when it has
        one: `model.Head`) weighs the grouping, and the chosen ones keep their top `top_k`. Crops
        are told apart by identity: the grouping keeps them all alive meanwhile.
        """
        ranked: dict[int, list[Prediction]] = {}

        def confidence(crops: Sequence[Any]) -> list[float]:
            log_probs, whole = self._forward(torch.stack([to_tensor(c) for c in crops]))
            answers = self._top(log_probs.exp(), top_k)
            ranked.update((id(c), a) for c, a in zip(crops, answers, strict=True))
            sure = log_probs.amax(dim=1) + (0.0 if whole is None else whole)
            return sure.exp().tolist()

        return [(f.box, ranked[id(f.crop)]) for f in find_glyphs(image, confidence)]

    @torch.inference_mode()
    def _forward(self, glyphs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Log-probabilities and, with a whole-glyph head, the log of its factor (`model.Head`)."""
        x = standardise(glyphs).contiguous(memory_format=torch.channels_last)
        if self.whole_glyph is None:
            return self.model(x).float().log_softmax(dim=1), None
        features = pooled_features(self.model, x)
        logits = self.model.get_classifier()(features)
        return logits.float().log_softmax(dim=1), self.whole_glyph.log_factor(features)

    def log_probs(self, glyphs: torch.Tensor) -> torch.Tensor:
        """(N, K) log-probabilities over `labels` for a batch normalised by `to_tensor`."""
        return self._forward(glyphs)[0]

    def rank(self, glyphs: torch.Tensor, top_k: int = 10) -> list[list[Prediction]]:
        """Top `top_k` for a batch already normalised by `to_tensor`, shape (N, 1, S, S)."""
        return self._top(self.log_probs(glyphs).exp(), top_k)

    def _top(self, probs: torch.Tensor, top_k: int) -> list[list[Prediction]]:
        scores, idx = probs.topk(min(top_k, probs.shape[1]), dim=1)
        return [
            [Prediction(self.labels[i], s) for i, s in zip(row_i, row_s, strict=True)]
            for row_i, row_s in zip(idx.tolist(), scores.tolist(), strict=True)
        ]
