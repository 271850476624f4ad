import rknn_fast


def test_package_imports_without_runtime():
    # Importing must not need librknnrt: only the private extension and pure-Python modules.
    assert rknn_fast.__version__
    assert hasattr(rknn_fast, "TensorInfo")


def test_tensor_info_n_elems():
    t = rknn_fast.TensorInfo(name="x", index=0, shape=(1, 3, 4, 5), layout="NCHW", dtype="int8")
    assert t.n_elems == 60
