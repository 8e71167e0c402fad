"""cnnviz.ui.resources: the keys under which the class shares what it sees."""

import numpy as np

from cnnviz.ui import resources


def test_image_digest_names_pixels_shape_and_type():
    """Equal images share a digest; a changed pixel, shape or dtype does not."""
    a = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert resources.image_digest(a) == resources.image_digest(a.copy())
    changed = a.copy()
    changed[0, 0] = 99
    assert resources.image_digest(changed) != resources.image_digest(a)
    assert resources.image_digest(a.reshape(4, 3)) != resources.image_digest(a)
    assert resources.image_digest(a.astype(np.float64)) != resources.image_digest(a)


def test_a_writeable_image_is_hashed_again_after_a_change():
    """Only read-only arrays are remembered: an array that can change is hashed on every call."""
    a = np.zeros((4, 4), np.uint8)
    before = resources.image_digest(a)
    a[1, 1] = 7
    assert resources.image_digest(a) != before


def test_a_read_only_image_is_remembered_while_it_lives():
    """The digest of a read-only array is kept (by identity) and dropped with the array."""
    a = np.ones((8, 8), np.uint8)
    a.setflags(write=False)
    digest = resources.image_digest(a)
    assert id(a) in resources._DIGESTS and resources.image_digest(a) == digest
    key = id(a)
    del a
    assert key not in resources._DIGESTS
