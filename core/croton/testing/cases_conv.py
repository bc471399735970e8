"""Conformance cases for `croton.tensor.nnet.conv2d` and its gradient ops.

The forward cases cover every border mode, strides, both filter orientations,
dilation and groups, in single and double precision, with the gradients with respect
to the input and the filters; the gradient ops are also checked on their own (their
gradients are the second derivatives of the convolution).
"""

from __future__ import annotations

from croton.testing.cases import Case, _case, _graph, _normal

#: (variant, input shape, filter shape, conv2d parameters)
_VARIANTS = [
    ("valid", (2, 3, 6, 7), (4, 3, 3, 2), {}),
    ("full", (2, 2, 5, 5), (3, 2, 3, 3), {"border_mode": "full"}),
    ("half", (1, 2, 6, 5), (2, 2, 4, 3), {"border_mode": "half"}),
    ("pad-stride", (2, 3, 7, 8), (2, 3, 3, 3), {"border_mode": (1, 2), "subsample": (2, 3)}),
    ("correlation-dilation", (1, 2, 9, 8), (2, 2, 3, 2), {"filter_flip": False,
                                                          "filter_dilation": (2, 3)}),
    ("groups", (2, 4, 6, 6), (6, 2, 3, 3), {"num_groups": 2, "border_mode": 1, "subsample": 2}),
    ("many-taps", (2, 8, 7, 6), (5, 8, 3, 3), {"border_mode": "half", "subsample": (1, 2)}),
]  # fmt: skip


def _output_shape(input_shape, filter_shape, params):
    from croton.ops.conv import Conv2d, output_length

    op = Conv2d(**params)
    lengths = [
        output_length(
            input_shape[2 + a],
            filter_shape[2 + a],
            op.border_mode,
            op.subsample[a],
            op.filter_dilation[a],
            a,
        )
        for a in range(2)
    ]
    return (input_shape[0], filter_shape[0], *lengths)


def conv_cases() -> list[Case]:
    """The convolution cases of the catalogue."""
    from croton.tensor.nnet import conv2d
    from croton.tensor.nnet.conv import conv2d_grad_wrt_inputs, conv2d_grad_wrt_weights

    t4 = ("float64", (None, None, None, None))
    cases = []
    for variant, input_shape, filter_shape, params in _VARIANTS:
        cases.append(
            _case(
                f"Conv2d/float64/{variant}",
                _graph(t4, t4, outputs=lambda x, w, p=params: conv2d(x, w, **p)),
                _normal(*input_shape),
                _normal(*filter_shape),
                grad=True,
            )
        )
    for variant, input_shape, filter_shape, params in _VARIANTS[2:4]:
        cases.append(
            _case(
                f"Conv2d/float32/{variant}",
                _graph(
                    ("float32", (None,) * 4),
                    ("float32", (None,) * 4),
                    outputs=lambda x, w, p=params: conv2d(x, w, **p),
                ),
                _normal(*input_shape, dtype="float32"),
                _normal(*filter_shape, dtype="float32"),
                grad=True,
            )
        )
    for variant, input_shape, filter_shape, params in (_VARIANTS[3], _VARIANTS[5]):
        out_shape = _output_shape(input_shape, filter_shape, params)

        def inputs_grad(w, gz, p=params, shape=input_shape):
            return conv2d_grad_wrt_inputs(gz, w, shape, **p)

        def weights_grad(x, gz, p=params, shape=filter_shape):
            return conv2d_grad_wrt_weights(x, gz, shape, **p)

        cases += [
            _case(
                f"Conv2dGradInputs/float64/{variant}",
                _graph(t4, t4, outputs=inputs_grad),
                _normal(*filter_shape),
                _normal(*out_shape),
                grad=True,
            ),
            _case(
                f"Conv2dGradWeights/float64/{variant}",
                _graph(t4, t4, outputs=weights_grad),
                _normal(*input_shape),
                _normal(*out_shape),
                grad=True,
            ),
        ]
    return cases
