"""Where the glyphs come from and how they are split: sources, the dataset, its card."""
