"""mattebench: train, evaluate and compare matting methods on equal terms."""

__version__ = "0.1.0"
