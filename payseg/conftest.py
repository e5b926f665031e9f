import matplotlib

# Doctests draw figures without a screen.
matplotlib.use("Agg")
