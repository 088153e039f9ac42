"""Model files shipped inside the fastredact wheel (package data).

- ``plates_int8.onnx`` and ``plates.onnx``: PlateNet, fastredact's own licence-plate detector
  (MIT), quantized to int8 (the default, ``training/plates/quantize.py``) and as trained
  (``training/plates/train.py``); described in ``training/plates/MODEL_CARD.md``, verified
  against ``PLATES_SHA256`` / ``PLATES_FP32_SHA256`` of ``fastredact.detect._platenet`` when
  loaded.
- ``yunet_n.onnx``: YuNet-n (Apache-2.0), see ``YUNET.md`` and ``YUNET_LICENSE``.
"""
