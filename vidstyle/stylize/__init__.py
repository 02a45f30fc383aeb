"""Stylizers: feed-forward networks (Magenta arbitrary, CIN-26, Johnson) and Gatys optimisation."""
