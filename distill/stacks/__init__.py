"""The stacks of one stage, and the Stage that composes them."""
