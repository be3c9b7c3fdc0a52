"""Matting networks as plain `nn.Module`s (no Lightning, no Hydra), one package per method."""
