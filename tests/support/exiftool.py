"""The ExifTool oracle: which metadata groups and tags an output may still show in
``exiftool -j -G1 -a -u`` (the container and the pixels, never the picture's origin)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

__all__ = ["ALLOWED_GROUPS", "ALLOWED_TAGS", "exiftool_records", "violations"]

# Groups whose every tag describes the container or the pixels, never the picture's origin.
ALLOWED_GROUPS = {
    "System",  # the file system (name, size, dates of the output file itself)
    "Composite",  # derived from the allowed tags
    "JFIF",
    "Adobe",
    "ICC_Profile",
    "ICC-header",
    "ICC-meas",
    "ICC-view",
    "ICC-chrm",
    "PNG-pHYs",
}
# Groups where only some tags are allowed (the others would be metadata).
ALLOWED_TAGS = {
    "ExifTool": {"ExifToolVersion"},  # no Warning / Error: nothing odd left in the file
    "File": {
        "FileType",
        "FileTypeExtension",
        "MIMEType",
        "ImageWidth",
        "ImageHeight",
        "EncodingProcess",
        "BitsPerSample",
        "ColorComponents",
        "YCbCrSubSampling",
        "ExifByteOrder",  # from the minimal orientation-only EXIF
    },
    "IFD0": {"Orientation"},
    "PNG": {
        "ImageWidth",
        "ImageHeight",
        "BitDepth",
        "ColorType",
        "Compression",
        "Filter",
        "Interlace",
        "Palette",
        "Gamma",
        "WhitePointX",
        "WhitePointY",
        "RedX",
        "RedY",
        "GreenX",
        "GreenY",
        "BlueX",
        "BlueY",
        "SRGBRendering",
        "SignificantBits",
        "Transparency",
        "AnimationFrames",
        "AnimationPlays",
        "ProfileName",
    },
    "RIFF": {
        "WebP_Flags",
        "ImageWidth",
        "ImageHeight",
        "VP8Version",
        "HorizontalScale",
        "VerticalScale",
        "AlphaPreprocessing",
        "AlphaFiltering",
        "AlphaCompression",
        "BackgroundColor",
        "AnimationLoopCount",
        "Duration",
        "FrameCount",
    },
    # HEIF / AVIF: the brands, the handler, the coded picture's configuration, size,
    # rotation and where its data lies.
    "QuickTime": {
        "MajorBrand",
        "MinorVersion",
        "CompatibleBrands",
        "HandlerType",
        "ImageSpatialExtent",
        "ImagePixelDepth",
        "Rotation",
        "MediaData",
        "MediaDataSize",
        "MediaDataOffset",
        # HEVC decoder configuration (hvcC)
        "HEVCConfigurationVersion",
        "GeneralProfileSpace",
        "GeneralTierFlag",
        "GeneralProfileIDC",
        "GenProfileCompatibilityFlags",
        "ConstraintIndicatorFlags",
        "GeneralLevelIDC",
        "MinSpatialSegmentationIDC",
        "ParallelismType",
        "ChromaFormat",
        "BitDepthLuma",
        "BitDepthChroma",
        "AverageFrameRate",
        "ConstantFrameRate",
        "NumTemporalLayers",
        "TemporalIDNested",
        # AV1 decoder configuration (av1C)
        "AV1ConfigurationVersion",
        "SeqProfile",
        "SeqLevelIdx0",
        "SeqTier0",
        "HighBitDepth",
        "TwelveBit",
        "ChromaSamplePosition",
        "InitialDelaySamples",
    },
    "Meta": {"PrimaryItemReference"},
    "GIF": {
        "GIFVersion",
        "ImageWidth",
        "ImageHeight",
        "HasColorMap",
        "ColorResolutionDepth",
        "BitsPerPixel",
        "BackgroundColor",
        "PixelAspectRatio",
        "AnimationIterations",
        "TransparentColor",
        "Duration",
        "FrameCount",
    },
}


def violations(record: dict[str, object]) -> list[str]:
    """The tags of one ``exiftool -j -G1`` record that are outside the allowlist."""
    bad = []
    for key, value in record.items():
        if key == "SourceFile":
            continue
        group, _, tag = key.partition(":")
        if group in ALLOWED_GROUPS:
            continue
        if tag in ALLOWED_TAGS.get(group, set()):
            continue
        bad.append(f"{key}={value!r}"[:120])
    return bad


def exiftool_records(paths: list[Path]) -> list[dict[str, object]]:
    done = subprocess.run(
        ["exiftool", "-j", "-G1", "-a", "-u", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    records: list[dict[str, object]] = json.loads(done.stdout)
    return records
