"""The input's soundtrack as per-frame features (rms, onset, beat, bands) for audio-reactive controls."""
