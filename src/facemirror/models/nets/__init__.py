"""Pure ``torch.nn`` networks whose state-dict layout equals the official checkpoints."""
