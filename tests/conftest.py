import matplotlib

# Tests draw figures without a screen.
matplotlib.use("Agg")
