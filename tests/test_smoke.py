from micrograd import Value


def test_readme_example_runs() -> None:
    """The README's example builds a graph and backpropagates to both leaves."""
    a, b = Value(-4.0), Value(2.0)
    c = a + b
    d = a * b + b**3
    e = (c - d).tanh() + (a / b).exp().log() + d.relu() + (2**b).sigmoid()
    e.backward()
    assert a.grad != 0.0
    assert b.grad != 0.0
