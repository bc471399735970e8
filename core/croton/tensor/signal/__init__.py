"""Signal processing ops (``croton.tensor.signal``); pooling arrives with the nnet work."""
