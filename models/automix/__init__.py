"""The auto-mix predictor: stem features in, channel-strip and mastering settings out.

``twin`` is the differentiable torch copy of ``dsp.channel_strip`` and ``dsp.mastering``
(training only), ``network`` the MLP and its parameter scaling, ``predictor`` the shipped
weights run in numpy, ``corpus`` the generated multitracks, ``train`` the training loop.
"""
