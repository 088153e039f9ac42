//! Bindings of the redaction kernels: numpy arrays in, `fastredact_core::kernels::redact`
//! with the GIL released, errors out. No redaction logic lives here.

use fastredact_core::kernels::{redact as core_redact, ImageMut, Options, RegionIn};
use fastredact_core::mask::{Mode, Shape};
use numpy::ndarray::ArrayViewMutD;
use numpy::{PyArrayDyn, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;

use crate::errors::{guarded, to_py_err};

fn shape_of(code: u8, row: usize) -> PyResult<Shape> {
    match code {
        0 => Ok(Shape::Box),
        1 => Ok(Shape::Ellipse),
        _ => Err(PyValueError::new_err(format!(
            "region {row}: unknown shape code {code}"
        ))),
    }
}

fn mode_of(code: u8, row: usize) -> PyResult<Mode> {
    match code {
        0 => Ok(Mode::Blur),
        1 => Ok(Mode::Pixelate),
        2 => Ok(Mode::Secure),
        3 => Ok(Mode::Fill),
        _ => Err(PyValueError::new_err(format!(
            "region {row}: unknown mode code {code}"
        ))),
    }
}

/// `(height, width, channels, row_stride)` when the view can be handed to the core as a
/// slice: non-negative strides, contiguous pixels and channels, rows that do not overlap.
fn direct_layout(view: &ArrayViewMutD<'_, u8>) -> PyResult<(usize, usize, usize, Option<usize>)> {
    let shape = view.shape();
    let strides = view.strides();
    let (h, w, c) = match *shape {
        [h, w] => (h, w, 1),
        [h, w, c] => (h, w, c),
        _ => {
            return Err(PyValueError::new_err(format!(
                "image must be H×W, H×W×3 or H×W×4, got shape {shape:?}"
            )))
        }
    };
    let pixel_ok = w <= 1 || strides[1] == c as isize;
    let channel_ok = shape.len() == 2 || c <= 1 || strides[2] == 1;
    let rs = if h <= 1 { (w * c) as isize } else { strides[0] };
    let direct = pixel_ok && channel_ok && rs >= (w * c) as isize;
    Ok((h, w, c, direct.then_some(rs as usize)))
}

/// Redact `image` in place (see `fastredact.redact`, which validates and normalises the
/// arguments). `boxes` is (N, 4) float64; `shapes` and `modes` are per-region codes.
#[pyfunction]
#[pyo3(signature = (image, boxes, shapes, modes, scale, feather, strength, fill, seed, threads))]
#[allow(clippy::too_many_arguments)]
pub fn redact(
    py: Python<'_>,
    image: &Bound<'_, PyAny>,
    boxes: PyReadonlyArray2<'_, f64>,
    shapes: PyReadonlyArray1<'_, u8>,
    modes: PyReadonlyArray1<'_, u8>,
    scale: f64,
    feather: u32,
    strength: Option<f64>,
    fill: [u8; 3],
    seed: u64,
    threads: Option<usize>,
) -> PyResult<()> {
    guarded(|| {
        let array = image
            .cast::<PyArrayDyn<u8>>()
            .map_err(|_| PyTypeError::new_err("image must be a numpy array of dtype uint8"))?;
        let mut rw = array
            .try_readwrite()
            .map_err(|e| PyValueError::new_err(format!("image cannot be written: {e}")))?;
        let boxes = boxes.as_array();
        let (shapes, modes) = (shapes.as_array(), modes.as_array());
        let n = boxes.nrows();
        if boxes.ncols() != 4 || shapes.len() != n || modes.len() != n {
            return Err(PyValueError::new_err(
                "boxes must be (N, 4) with N shapes and N modes",
            ));
        }
        let mut regions = Vec::with_capacity(n);
        for i in 0..n {
            regions.push(RegionIn {
                bbox: [boxes[[i, 0]], boxes[[i, 1]], boxes[[i, 2]], boxes[[i, 3]]],
                shape: shape_of(shapes[i], i)?,
                mode: mode_of(modes[i], i)?,
            });
        }
        let opts = Options {
            scale,
            feather,
            strength,
            fill,
            seed,
            threads,
            level: None,
        };
        let mut view = rw.as_array_mut();
        let (height, width, channels, direct) = direct_layout(&view)?;
        match direct {
            Some(row_stride) => {
                let len = match (height, width) {
                    (0, _) | (_, 0) => 0,
                    (h, w) => (h - 1) * row_stride + w * channels,
                };
                let ptr = view.as_mut_ptr();
                // SAFETY: `rw` holds rust-numpy's exclusive borrow of the array for this
                // whole scope, so no other Rust code reads or writes it. Strides are
                // non-negative (checked in `direct_layout`), so the element (0, 0, 0) is
                // the lowest address and the last byte of the last row, at
                // `(h - 1) * row_stride + w * channels - 1`, the highest one we index:
                // every byte of the slice lies inside the array's buffer. Other Python
                // threads may still write to the buffer while the GIL is released
                // (rust-numpy issue #497); that is a data race on plain bytes the caller
                // asked for, documented on `fastredact.redact`.
                let data = unsafe { std::slice::from_raw_parts_mut(ptr, len) };
                let img = ImageMut {
                    data,
                    width,
                    height,
                    channels,
                    row_stride,
                };
                py.detach(|| core_redact(img, &regions, &opts))
                    .map_err(to_py_err)
            }
            None => {
                // Unusual layouts (negative or non-unit pixel strides): work on a
                // C-contiguous copy, then copy the result back.
                let mut owned = view.as_standard_layout().into_owned();
                let data = owned
                    .as_slice_mut()
                    .ok_or_else(|| PyValueError::new_err("could not copy the image"))?;
                let img = ImageMut {
                    data,
                    width,
                    height,
                    channels,
                    row_stride: width * channels,
                };
                py.detach(|| core_redact(img, &regions, &opts))
                    .map_err(to_py_err)?;
                view.assign(&owned);
                Ok(())
            }
        }
    })
}

/// The instruction set the kernels use (`FASTREDACT_SIMD` or the best available), and the
/// ones this CPU supports.
#[pyfunction]
pub fn simd_levels() -> PyResult<(String, Vec<String>)> {
    guarded(|| {
        let chosen = fastredact_core::kernels::dispatch::selected().map_err(to_py_err)?;
        let all = fastredact_core::kernels::dispatch::Level::all_available()
            .into_iter()
            .map(|l| l.name().to_owned())
            .collect();
        Ok((chosen.name().to_owned(), all))
    })
}

/// Add the kernel functions to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(redact, m)?)?;
    m.add_function(wrap_pyfunction!(simd_levels, m)?)?;
    Ok(())
}
