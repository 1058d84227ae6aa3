"""RandomErasing, MixUp, CutMix, RandAugment, AugMix and Pipeline: the structure of what they
produce (which pixels may change, how labels follow images), seeds, and configs."""

import numpy as np
import pytest
import torch

import netknit as keras
from netknit import layers


def _images(seed=0, shape=(8, 6, 7, 3)):
    return torch.as_tensor(np.random.default_rng(seed).uniform(0, 255, shape).astype("float32"))


def test_random_erasing_fills_one_rectangle_per_image():
    images = _images(shape=(16, 10, 12, 3))
    out = layers.RandomErasing((1.0, 1.0), scale=(0.1, 0.3), fill_value=-5.0, seed=1)(images)
    for erased in (out == 0).all(-1):  # -5 is clipped to the value range
        rows, columns = erased.any(1).nonzero(), erased.any(0).nonzero()
        assert erased.sum() == len(rows) * len(columns) > 0  # a full rectangle
        assert erased[rows.min():rows.max() + 1, columns.min():columns.max() + 1].all()
    assert torch.equal(layers.RandomErasing((0.0, 0.0))(images), images)
    noise = layers.RandomErasing((1.0, 1.0), value_range=(0, 1))(images / 255)
    assert noise.min() >= 0 and noise.max() <= 1
    per_channel = layers.RandomErasing((1.0, 1.0), fill_value=(1.0, 2.0, 3.0))(images)
    assert {tuple(p) for p in per_channel[per_channel[..., 0] == 1.0].tolist()} == {
        (1.0, 2.0, 3.0)}
    with pytest.raises(ValueError, match="2 fill values for images of 3 channels"):
        layers.RandomErasing(fill_value=[1.0, 2.0])(images)


def test_mixup_mixes_each_image_with_a_partner_as_it_mixes_the_labels():
    images, labels = _images(), torch.eye(8)
    out = layers.MixUp(alpha=1.0, seed=2)({"images": images, "labels": labels})
    for image, label in zip(out["images"], out["labels"]):
        weights = label.nonzero().flatten()
        expected = (label[:, None, None, None] * images).sum(0)
        torch.testing.assert_close(image, expected, rtol=1e-5, atol=1e-3)
        assert len(weights) <= 2 and label.sum() == pytest.approx(1.0)
    assert torch.equal(layers.MixUp(seed=2)(images), layers.MixUp(seed=2)(images))


def test_cutmix_pastes_a_partner_s_box_and_weighs_labels_by_its_area():
    images, labels = _images(shape=(16, 12, 10, 3)), torch.eye(16)
    out = layers.CutMix(seed=4)({"images": images, "labels": labels})
    mixed = 0
    for i, (image, label) in enumerate(zip(out["images"], out["labels"])):
        own = (image == images[i]).all(-1)
        if label[i] == 1:  # its own partner, or an empty box
            assert own.all()
            continue
        mixed += 1
        partner = int(torch.cat([label[:i], torch.zeros(1), label[i + 1:]]).argmax())
        pasted = (image == images[partner]).all(-1) & ~own
        assert (own | pasted).all()
        # The box's pixels, against its real-valued area: at most a row and a column more.
        assert abs(pasted.float().mean() - (1 - label[i])) <= (12 + 10 + 1) / 120
    assert mixed > 4
    assert torch.equal(layers.CutMix()(images[0]), images[0])  # a single image: no partner


def test_labels_pass_through_layers_that_do_not_mix():
    images, labels = _images(), torch.arange(8)
    out = layers.RandomInvert((1.0, 1.0))({"images": images, "labels": labels})
    assert torch.equal(out["labels"], labels)
    torch.testing.assert_close(out["images"], 255 - images)
    with pytest.raises(ValueError, match="dict with the key 'images' and optionally 'labels'"):
        layers.RandomInvert()({"images": images, "bounding_boxes": labels})


def test_rand_augment_applies_num_ops_operations_repeatably():
    images = _images()
    first, second = (layers.RandAugment(num_ops=3, seed=5)(images) for _ in range(2))
    assert torch.equal(first, second) and not torch.equal(first, images)
    assert first.min() >= 0 and first.max() <= 255
    assert torch.equal(layers.RandAugment(num_ops=0)(images), images)
    layer = layers.RandAugment(value_range=(0, 1))
    assert layer.random_posterization.factor == (1, 4)  # Keras's max(1, int(8 * 0.5))
    assert [name for name, _ in layer.named_children()][-2:] == ["auto_contrast", "equalization"]


def test_augmix_blends_chains_within_the_value_range():
    images = _images()
    layer = layers.AugMix(seed=1)
    out = layer(images)
    assert out.shape == images.shape and not torch.equal(out, images)
    assert out.min() >= 0 and out.max() <= 255
    assert torch.equal(layers.AugMix(seed=1)(images), out)
    assert torch.allclose(layers.AugMix(chain_depth=0)(images), images, atol=1e-3)
    assert len(layers.AugMix(all_ops=False)._operations) == 7
    with pytest.raises(ValueError, match="num_chains to be an integer of at least 1"):
        layers.AugMix(num_chains=0)
    with pytest.raises(ValueError, match="alpha to be a positive number"):
        layers.MixUp(alpha=0)


def test_pipeline_runs_its_layers_in_order_in_the_caller_s_mode():
    pipeline = layers.Pipeline([layers.RandomInvert((1.0, 1.0)), layers.RandomCrop(3, 4),
                                layers.Rescaling(0.5)])
    images = _images()
    out = pipeline(images)  # training, as a direct call of augmentation layers
    assert out.shape == (8, 3, 4, 3) and out.max() <= 127.5
    inference = pipeline(images, training=False)  # no inversion; RandomCrop resizes
    assert inference.shape == (8, 3, 4, 3)
    inputs = keras.Input((6, 7, 3))
    model = keras.Model(inputs, pipeline(inputs))
    assert model.output_shape == (None, 3, 4, 3)
    np.testing.assert_allclose(model.predict(images.numpy(), verbose=0), inference.numpy(),
                               rtol=1e-6)
    again = layers.Pipeline.from_config(pipeline.get_config())
    assert [type(layer) for layer in again.layers] == [type(layer) for layer in pipeline.layers]
    assert again.get_config() == pipeline.get_config()
    with pytest.raises(ValueError, match="layers to be a list of layers"):
        layers.Pipeline(layers.RandomFlip())


def test_a_model_can_mix_images_and_labels_it_receives_as_a_dict():
    inputs = {"images": keras.Input((6, 7, 3), name="images"),
              "labels": keras.Input((8,), name="labels")}
    outputs = layers.MixUp(seed=1)(inputs)
    assert outputs["images"].shape == (None, 6, 7, 3) and outputs["labels"].shape == (None, 8)
    model = keras.Model(inputs, outputs)
    images, labels = _images(), torch.eye(8)
    mixed = model({"images": images, "labels": labels}, training=True)
    assert not torch.equal(mixed["labels"], labels)
    torch.testing.assert_close(mixed["labels"].sum(-1), torch.ones(8))
    kept = model.predict({"images": images.numpy(), "labels": labels.numpy()}, verbose=0)
    np.testing.assert_array_equal(kept["labels"], labels.numpy())
