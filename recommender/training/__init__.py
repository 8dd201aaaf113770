"""Training of the app's models, one module per job.

``data`` (catalogue + pack, leak-free split) · ``augment`` (format-randomising views, the
format-neutral and format-swap transforms) · ``network`` (Keras surgery) · ``cache`` (activations
of the frozen bottom) · ``metrics`` (scores, format probe, plots) · ``artefact`` (the versioned
directory and its card) · ``loop`` (the style model's training run) · ``autoencoder``.
The command line lives in the management commands only.
"""
