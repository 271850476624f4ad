"""A script written for Rockchip's RKNNLite (rknn-toolkit-lite2), the way its examples are.

tests/test_lite.py runs it with only the import line changed to rknn_fast.lite.
Usage: python lite_script.py model.rknn inputs.npy outputs.npz
"""
import sys

import numpy as np
from rknnlite.api import RKNNLite

if __name__ == "__main__":
    model_path, input_path, output_path = sys.argv[1:4]
    imgs = np.load(input_path)  # (N, H, W, 3) uint8 RGB frames

    rknn_lite = RKNNLite()

    print("--> Load RKNN model")
    ret = rknn_lite.load_rknn(model_path)
    if ret != 0:
        print("Load RKNN model failed")
        exit(ret)
    print("done")

    print("--> Init runtime environment")
    ret = rknn_lite.init_runtime(core_mask=RKNNLite.NPU_CORE_0)
    if ret != 0:
        print("Init runtime environment failed")
        exit(ret)
    print("done")
    print(rknn_lite.get_sdk_version())

    results = {}
    for k, img in enumerate(imgs):
        img = np.expand_dims(img, 0)
        outputs = rknn_lite.inference(inputs=[img])
        if outputs is None:
            print("Inference failed")
            exit(-1)
        for i, out in enumerate(outputs):
            results[f"frame{k}_out{i}"] = out
    np.savez(output_path, **results)

    rknn_lite.release()
    print("ok")
