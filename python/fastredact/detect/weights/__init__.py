"""Model files shipped inside the fastredact wheel (package data).

- ``plates.onnx``: PlateNet, fastredact's own licence-plate detector (MIT); trained by
  ``training/plates/train.py``, described in ``training/plates/MODEL_CARD.md``, and verified
  against ``fastredact.detect._platenet.PLATES_SHA256`` when loaded.
"""
