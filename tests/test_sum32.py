"""sum32 is computed through zlib.adler32 chunks for speed: check it against the plain definition."""

from hypothesis import given, strategies as st

from bundler.checksums import sum32


@given(st.binary(max_size=5000))
def test_sum32_is_the_byte_sum(data: bytes) -> None:
    assert sum32(data) == sum(data) & 0xFFFFFFFF


def test_sum32_wraps_at_32_bits() -> None:
    data = b"\xff" * (17 << 20)  # 255 * 17 MiB > 2**32
    assert sum32(data) == (255 * len(data)) & 0xFFFFFFFF
    assert sum32(memoryview(bytearray(data))[3:]) == (255 * (len(data) - 3)) & 0xFFFFFFFF
