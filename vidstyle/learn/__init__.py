"""Learning new CIN-26 styles from a painting (``vidstyle styles learn``): content data, trainer, checkpoints."""
