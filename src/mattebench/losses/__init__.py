"""Training losses, one module per method, each a transcription of the official trainer."""
