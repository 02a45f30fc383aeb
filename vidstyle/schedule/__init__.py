"""Per-frame controls: Deforum-style schedules, style crossfades, shots and audio reactions."""
