"""The network and its folder in timm's Hub format (config.json + model.safetensors + README.md).

A folder written here loads with `timm.create_model("local-dir:PATH", pretrained=True)` and, once
pushed, with `timm.create_model("hf-hub:REPO_ID", pretrained=True)`; `load` is the project's own
loader, which reads safetensors only and checks the files against each other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import safetensors.torch
import timm
import torch
from timm.models import register_model
from torch import nn

from .files import atomic_dir
from .glyphs.glyph import INPUT_SIZE

DEFAULT_ARCH = "resnet10t"
MEAN, STD = (0.5,), (0.5,)  # ink-high input in [0, 1] -> [-1, 1]
CONFIG, WEIGHTS = "config.json", "model.safetensors"


def standardise(ink: torch.Tensor) -> torch.Tensor:
    """Ink in [0, 1] -> the network's input (mean and std are in every config.json)."""
    return (ink - MEAN[0]) / STD[0]


def pooled_features(model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """The pooled features the classifier reads (timm's pre-logits): `model.get_classifier()`
    of them is `model(x)`. The 2022 seed CNN has none to offer."""
    if not hasattr(model, "forward_head"):
        raise TypeError(f"{type(model).__name__} has no pooled features (a timm model has)")
    return model.forward_head(model.forward_features(x), pre_logits=True)


# The whole-glyph head (`training.wholeness` fits it): whole glyph, part of one, or several.
HEAD_KEY = (
    "whole_glyph"  # config.json entry: {"weight": [[...] x 3], "bias": [...], "powers": [...]}
)
POWERS = (0.3, 0.1)  # of the odds of whole against part, and against several (validation pages)
WHOLE, PART, SEVERAL = 0, 1, 2


@dataclass(frozen=True)
class Head:
    """Whole glyph, part of one, or several, from pooled features; and what the reader makes
    of it."""

    weight: torch.Tensor  # (3, num_features)
    bias: torch.Tensor  # (3,)
    powers: tuple[float, float] = POWERS

    def logits(self, features: torch.Tensor) -> torch.Tensor:
        return features.float() @ self.weight.T + self.bias

    def log_factor(self, features: torch.Tensor) -> torch.Tensor:
        """Log of what the reader multiplies the model's confidence in each crop by."""
        z = self.logits(features)
        return self.powers[0] * (z[:, WHOLE] - z[:, PART]) + self.powers[1] * (
            z[:, WHOLE] - z[:, SEVERAL]
        )

    @classmethod
    def from_config(cls, config: dict) -> Head | None:
        entry = config.get(HEAD_KEY)
        if not entry:
            return None
        return cls(
            torch.tensor(entry["weight"], dtype=torch.float32),
            torch.tensor(entry["bias"], dtype=torch.float32),
            tuple(entry["powers"]),
        )

    def to_config(self, **about: Any) -> dict:
        return {
            "weight": [[round(v, 6) for v in row] for row in self.weight.tolist()],
            "bias": [round(v, 6) for v in self.bias.tolist()],
            "powers": list(self.powers),
            **about,
        }


class ModelFileError(ValueError):
    """A model folder is missing a file, or its files disagree."""


class SeedCNN(nn.Module):
    """The 2022 tutorial's network, kept as the baseline every card compares against."""

    def __init__(self, num_classes: int, in_chans: int = 1, img_size: int = INPUT_SIZE) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(in_chans, 32, 5, stride=2),
            nn.BatchNorm2d(32),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3),
            nn.BatchNorm2d(64),
            nn.ReLU(),
            nn.MaxPool2d(2),
        )
        side = ((img_size - 5) // 2 + 1) // 2 - 2
        self.num_classes, self.num_features = num_classes, 64 * (side // 2) ** 2
        self.fc = nn.Linear(self.num_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.features(x).flatten(1))


@register_model
def seed_cnn(
    pretrained: bool = False, num_classes: int = 793, in_chans: int = 1, **kwargs
) -> nn.Module:
    """timm factory for the baseline, so both networks go through the same harness."""
    model = SeedCNN(num_classes, in_chans)
    model.pretrained_cfg = {
        "architecture": "seed_cnn",
        "input_size": (in_chans, INPUT_SIZE, INPUT_SIZE),
    }
    return model


def arch_name(arch: str) -> str:
    return "seed_cnn" if arch == "seed-cnn" else arch


def create(arch: str, num_classes: int, pretrained: bool = False) -> nn.Module:
    """A timm network for one-channel glyphs at the normalised input size."""
    model = timm.create_model(
        arch_name(arch), pretrained=pretrained, num_classes=num_classes, in_chans=1
    )
    cfg = dict(getattr(model, "pretrained_cfg", {}) or {})
    cfg.update(
        input_size=(1, INPUT_SIZE, INPUT_SIZE),
        mean=MEAN,
        std=STD,
        crop_pct=1.0,
        interpolation="bilinear",
        num_classes=num_classes,
    )
    model.pretrained_cfg = cfg
    return model


@dataclass
class LoadedModel:
    model: nn.Module
    labels: list[str]
    config: dict
    path: Path


def save(
    model: nn.Module,
    labels: list[str],
    out: Path,
    card: str | None = None,
    extra: dict | None = None,
) -> None:
    """Write the folder atomically; weights as float16 safetensors (half the size, same answers)."""
    with atomic_dir(out) as tmp:
        state = {
            k: (v.half() if v.is_floating_point() else v).contiguous()
            for k, v in model.state_dict().items()
        }
        safetensors.torch.save_file(state, str(tmp / WEIGHTS), metadata={"format": "pt"})
        cfg = model.pretrained_cfg
        config = {
            "architecture": cfg.get("architecture", type(model).__name__),
            "num_classes": len(labels),
            "num_features": getattr(model, "num_features", None),
            "model_args": {"in_chans": 1},
            "label_names": labels,
            "pretrained_cfg": {
                "input_size": [1, INPUT_SIZE, INPUT_SIZE],
                "mean": list(MEAN),
                "std": list(STD),
                "crop_pct": 1.0,
                "interpolation": "bilinear",
                "num_classes": len(labels),
                "classifier": cfg.get("classifier", "fc"),
                "first_conv": cfg.get("first_conv", "conv1"),
            },
            **(extra or {}),
        }
        (tmp / CONFIG).write_text(
            json.dumps(config, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        if card is not None:
            (tmp / "README.md").write_text(card, encoding="utf-8")


def load(folder: Path) -> LoadedModel:
    """Load a model folder; every inconsistency is a `ModelFileError` naming the file."""
    folder = Path(folder)
    config_path, weights_path = folder / CONFIG, folder / WEIGHTS
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ModelFileError(f"{config_path}: missing") from e
    except (ValueError, UnicodeDecodeError) as e:
        raise ModelFileError(f"{config_path}: not valid JSON ({e})") from e
    labels = config.get("label_names")
    if not isinstance(labels, list) or not labels:
        raise ModelFileError(f"{config_path}: no label_names")
    if config.get("num_classes", len(labels)) != len(labels):
        raise ModelFileError(
            f"{config_path}: num_classes {config['num_classes']} but {len(labels)} label_names"
        )
    if not weights_path.exists():
        raise ModelFileError(f"{weights_path}: missing (weights load from safetensors only)")
    try:
        state = safetensors.torch.load_file(str(weights_path))
    except Exception as e:  # safetensors raises its own error types for corrupt headers
        raise ModelFileError(f"{weights_path}: corrupt or truncated ({e})") from e
    model = create(config.get("architecture", DEFAULT_ARCH), len(labels))
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise ModelFileError(
            f"{weights_path}: does not match {config_path} ({str(e).splitlines()[0]} ...)"
        ) from e
    return LoadedModel(model.eval(), labels, config, folder)
