"""The neural drum model: a small causal RAVE-style autoencoder trained on generated drum loops."""
