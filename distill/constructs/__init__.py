"""L3 constructs, one concern each; stacks compose them."""
