"""Downstream planning benchmark: planning scenes, a planner on kept tokens, the pruning table."""
