"""chipcast: Monte Carlo forecasts of domestic / foreign chip parity, from Python."""
