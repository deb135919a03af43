"""What the `distill` commands do against a deployed stage: status, preflight, evaluation, cost and prices, the
training-metrics CSV and its loss chart."""
