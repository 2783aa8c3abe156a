"""Data: the nuScenes-FG manifest reader and the synthetic scene generator."""
