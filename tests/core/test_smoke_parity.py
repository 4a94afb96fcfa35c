from helpers import check_op


def test_mul_broadcast_row() -> None:
    check_op(lambda a, b: a * b, [(3, 4), (4,)])


def test_matmul_batched() -> None:
    check_op(lambda a, b: a @ b, [(2, 3, 4), (4, 5)])
