"""The asymmetry field on synthetic textures made exactly symmetric about a tilted line (no face model needed)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from facemirror.asymmetry import (
    AsymmetryField,
    FaceFrame,
    asymmetry_field,
    correct_pairs,
    overlay_heatmap,
    split_sides,
)
from facemirror.asymmetry.flow import partner_implied
from facemirror.asymmetry.synthetic import Droop
from facemirror.mirror.landmarks import reflect_points
from facemirror.mirror.midline import Midline

SIZE = 320


def symmetric_texture(midline: Midline, size: int = SIZE, seed: int = 0) -> np.ndarray:
    """A smooth random BGR texture that is exactly mirror-symmetric about ``midline`` (continuous coordinates)."""
    rng = np.random.default_rng(seed)
    tex = cv2.GaussianBlur(rng.uniform(0, 255, (2 * size, 2 * size, 3)).astype(np.float32), (0, 0), 2.5)
    tex = cv2.normalize(tex, None, 20, 235, cv2.NORM_MINMAX)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    rel_x, rel_y = xs - midline.point[0], ys - midline.point[1]
    n, d = midline.normal, midline.direction
    across = np.abs(n[0] * rel_x + n[1] * rel_y)  # the same texture at the same distance on either side
    along = d[0] * rel_x + d[1] * rel_y
    maps = np.stack([across + 5.0, along + size], axis=-1).astype(np.float32)
    return cv2.remap(tex, maps[..., 0], maps[..., 1], cv2.INTER_LINEAR).astype(np.uint8)


@pytest.fixture(params=[0.0, 17.0], ids=["upright", "tilted"])
def midline(request: pytest.FixtureRequest) -> Midline:
    return Midline.from_angle((SIZE / 2 + 3.3, SIZE / 2 - 1.7), request.param)


def box_around(midline: Midline, half: float = 110.0) -> np.ndarray:
    x, y = midline.point
    return np.array([x - half, y - half, x + half, y + half])


def on_side(midline: Midline, across: float, along: float) -> np.ndarray:
    """The point ``across`` px along the normal (subject's left when positive) and ``along`` px down the face."""
    return np.asarray(midline.point) + across * np.asarray(midline.normal) + along * np.asarray(midline.direction)


def test_crop_of_a_symmetric_image_is_its_own_mirror(midline: Midline) -> None:
    image = symmetric_texture(midline)
    frame = FaceFrame.around(midline, box_around(midline, 70.0))  # inside the image even when tilted
    crop = frame.take(image).astype(np.float32)
    assert np.abs(crop - crop[:, ::-1]).mean() < 1.0
    centre = frame.to_crop(np.array([midline.point]))[0]
    assert centre[0] == pytest.approx(frame.size[0] / 2, abs=1e-9)
    points = np.array([[100.0, 120.0], [210.5, 90.25]])
    np.testing.assert_allclose(frame.to_image(frame.to_crop(points)), points, atol=1e-9)


def test_a_face_larger_than_the_working_size_is_shrunk(midline: Midline) -> None:
    frame = FaceFrame.around(midline, box_around(midline, 70.0), face_range=(0.0, 100.0))
    assert frame.native is not None and frame.scale < 1.0
    crop = frame.take(symmetric_texture(midline)).astype(np.float32)
    assert crop.shape[:2] == (frame.size[1], frame.size[0])
    assert np.abs(crop - crop[:, ::-1]).mean() < 1.0


def test_symmetric_texture_has_no_asymmetry(midline: Midline) -> None:
    field = asymmetry_field(symmetric_texture(midline), midline, box_around(midline))
    magnitude = field.magnitude()  # the texture is symmetric up to its sampling on the pixel grid
    assert np.isfinite(magnitude).mean() > 0.5  # the tilted crop reaches past the image's corners
    assert np.nanpercentile(magnitude, 99) < 0.25
    left = on_side(midline, 40.0, 10.0)[None]
    result = correct_pairs(field, left, reflect_points(left, midline))
    assert result.valid.all()
    assert np.abs(result.asymmetry).max() < 0.1


@pytest.mark.parametrize("amount", [6.0, -6.0])
def test_a_droop_on_the_subjects_left_is_recovered(midline: Midline, amount: float) -> None:
    """The left point moved ``amount`` px down the face; the points given are where it was (a missed landmark)."""
    image = symmetric_texture(midline)
    left = on_side(midline, 45.0, 15.0)
    droop = Droop(tuple(left), amount, midline.direction, 35.0, 35.0, 35.0)
    field = asymmetry_field(droop.apply(image), midline, box_around(midline))
    result = correct_pairs(field, left[None], reflect_points(left[None], midline))
    assert result.asymmetry[0, 1] / amount == pytest.approx(1.0, abs=0.08)
    assert abs(result.asymmetry[0, 0]) < 0.5
    # half the missing asymmetry moves each point (share_left=0.5): the left one down, the right one up
    down = np.asarray(midline.direction)
    assert (result.left[0] - left) @ down == pytest.approx(result.asymmetry[0, 1] / 2, abs=1e-6)
    assert (result.right[0] - reflect_points(left[None], midline)[0]) @ down == pytest.approx(
        -result.asymmetry[0, 1] / 2, abs=1e-6
    )


def test_the_whole_correction_can_go_to_one_side(midline: Midline) -> None:
    image = symmetric_texture(midline)
    left = on_side(midline, 45.0, 15.0)
    field = asymmetry_field(
        Droop(tuple(left), 6.0, midline.direction, 35, 35, 35).apply(image), midline, box_around(midline)
    )
    right = reflect_points(left[None], midline)
    result = correct_pairs(field, left[None], right, share_left=1.0)
    np.testing.assert_allclose(result.right, right)
    assert (result.left[0] - left) @ np.asarray(midline.direction) == pytest.approx(6.0, abs=0.5)


def test_points_outside_the_field_are_left_alone(midline: Midline) -> None:
    field = asymmetry_field(symmetric_texture(midline), midline, box_around(midline, 60.0))
    far = on_side(midline, 150.0, 150.0)[None]
    assert np.isnan(field.at(far)).all()
    result = correct_pairs(field, far, reflect_points(far, midline))
    assert not result.valid[0]
    np.testing.assert_allclose(result.left, far)


def drooped_field(midline: Midline, amount: float = 6.0) -> tuple[np.ndarray, AsymmetryField, np.ndarray]:
    """A texture whose subject's-left point moved ``amount`` px down the face, its field, and that point."""
    left = on_side(midline, 45.0, 15.0)
    moved = Droop(tuple(left), amount, midline.direction, 35, 35, 35).apply(symmetric_texture(midline))
    return moved, asymmetry_field(moved, midline, box_around(midline, 80.0)), left


def test_maps_show_the_droop_where_it_is(midline: Midline) -> None:
    _, field, left = drooped_field(midline)
    down = np.asarray(midline.direction)
    moved = np.array([left, reflect_points(left[None], midline)[0]]) + 6.0 * down
    magnitude = field.to_image(field.magnitude(), (SIZE // 2, SIZE // 2), scale=0.5)
    assert magnitude.shape == (SIZE // 2, SIZE // 2)
    assert np.isnan(magnitude[0, 0]) and np.isnan(magnitude[-1, -1])  # outside the crop
    # |a| is the same at the moved point and at its partner: the peak is at one of them
    peak = np.array(np.unravel_index(np.nanargmax(magnitude), magnitude.shape)[::-1]) + 0.5
    assert np.linalg.norm(moved / 2 - peak, axis=1).min() < 6
    assert np.nanmax(magnitude) == pytest.approx(6.0, abs=1.0)
    # the signed map tells them apart: lower than its mirror partner on the moved side, higher on the other
    signed = field.to_image(field.down(), (SIZE, SIZE))
    (xl, yl), (xr, yr) = moved.astype(int)
    assert signed[yl, xl] == pytest.approx(6.0, abs=1.0)
    assert signed[yr, xr] == pytest.approx(-6.0, abs=1.0)


def test_heatmap_colours_the_asymmetry_only(midline: Midline) -> None:
    image, field, left = drooped_field(midline)
    x, y = (left + 6.0 * np.asarray(midline.direction)).astype(int)
    far = on_side(midline, 45.0, -70.0).astype(int)  # same side, well away from the droop
    for signed in (False, True):
        drawn = overlay_heatmap(image, field, full_scale_px=6.0, signed=signed)
        np.testing.assert_array_equal(drawn[:5, :5], image[:5, :5])  # outside the crop
        assert np.abs(drawn[far[1], far[0]].astype(int) - image[far[1], far[0]]).max() <= 3  # symmetric there
        assert np.abs(drawn[y, x].astype(int) - image[y, x]).max() > 60  # coloured at the droop
    xr, yr = reflect_points(np.array([[x + 0.5, y + 0.5]]), midline)[0].astype(int)
    assert drawn[y, x, 2] > drawn[y, x, 0] and drawn[yr, xr, 0] > drawn[yr, xr, 2]  # red lower, blue higher


def test_split_sides_follows_the_recording(midline: Midline) -> None:
    on_left = on_side(midline, 30.0, 0.0)[None]
    on_right = on_side(midline, -30.0, 0.0)[None]
    left, right = split_sides(on_right, on_left, midline)
    np.testing.assert_array_equal(left, on_left)
    np.testing.assert_array_equal(right, on_right)
    left, right = split_sides(on_right, on_left, midline, selfie=True)
    np.testing.assert_array_equal(left, on_right)


def test_partner_implied_flow_checks_one_half_against_the_other() -> None:
    """Left half 3 px lower than the mirrored right: the crop's flow is -3 px there and +3 px on the other half."""
    flow = np.zeros((40, 60, 2), np.float32)
    flow[:, 30:, 1], flow[:, :30, 1] = -3.0, 3.0
    inner = (slice(5, 35), np.r_[5:25, 35:55])  # away from the midline and the crop's edges
    np.testing.assert_allclose(partner_implied(flow)[inner], flow[inner], atol=1e-5)
    flow[:, :30, 1] = 0.0  # the other half missed it
    assert partner_implied(flow)[20, 10, 1] == pytest.approx(3.0, abs=1e-5)
    assert partner_implied(flow)[20, 50, 1] == pytest.approx(0.0, abs=1e-5)


def test_droop_moves_its_centre_by_the_amount() -> None:
    """On an image whose value is its row, the droop shows where each output pixel came from."""
    rows = np.repeat(np.arange(120, dtype=np.float32)[:, None], 120, axis=1)
    moved = Droop((60.5, 50.5), 7.0, (0.0, 1.0), 30.0, 30.0, 30.0).apply(rows)
    assert moved[57, 60] == pytest.approx(50.0, abs=0.01)  # the centre's pixel, 7 rows lower
    assert moved[10, 60] == 10.0 and moved[100, 60] == 100.0 and moved[50, 20] == 50.0  # untouched outside


def test_droop_refuses_to_fold_the_image() -> None:
    with pytest.raises(ValueError, match="folds"):
        Droop((0.0, 0.0), 20.0, (0.0, 1.0), 30.0, 30.0, 30.0)
    Droop((0.0, 0.0), -10.0, (0.0, 1.0), 30.0, 30.0, 10.0)  # moving up pushes into the region above


def test_bad_inputs_are_refused(midline: Midline) -> None:
    image = symmetric_texture(midline)
    with pytest.raises(ValueError, match="unknown asymmetry method"):
        asymmetry_field(image, midline, box_around(midline), "nope")
    with pytest.raises(ValueError, match="uint8"):
        asymmetry_field(image.astype(np.float32), midline, box_around(midline))
    with pytest.raises(ValueError, match="face region"):
        asymmetry_field(image, midline, np.zeros((1, 2)))
