"""Each public construct of ``distill.constructs`` built alone in a bare stack, as another team's app would use it."""
