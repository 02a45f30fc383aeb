"""Optical flow on the input frames, backward warping and occlusion masks."""
