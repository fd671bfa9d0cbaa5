"""The training loop, its augmentation and evaluation, and what is fitted after it."""
