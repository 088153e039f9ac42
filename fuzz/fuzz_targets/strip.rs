//! libFuzzer target: any input either fails with an error, or strips to an output that
//! strips again to the same bytes with nothing removed. Panics are bugs.
#![no_main]

use fastredact_core::metadata::{strip, Policy};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for policy in [Policy::default(), Policy::parse("drop", "drop").unwrap()] {
        if let Ok(first) = strip(data, &policy) {
            let again = strip(&first.data, &policy).expect("output must re-parse");
            assert_eq!(again.data, first.data, "second strip changed the output");
            assert!(again.report.removed.is_empty(), "output not clean");
        }
    }
});
