"""Host backends behind the :class:`~rknn_fast.Model` API (``Model("model.onnx", ...)``).

:mod:`rknn_fast.backends.onnx` runs an ONNX model with onnxruntime on the CPU so that the
pipelines work on a PC with real inference (optional extra ``rknn_fast[onnx]``).
"""
