//! A policy pack (YAML) uploaded as a successor policy: loaded beside the built-in pack or
//! refused with file, line and field; a refused pack leaves the set unchanged; never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;
use yuepin_policy::PolicySet;

fn builtin() -> &'static PolicySet {
    static SET: OnceLock<PolicySet> = OnceLock::new();
    SET.get_or_init(PolicySet::builtin)
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let mut set = builtin().clone();
        let before = set.packs().len();
        if set.load_str("fuzz.yaml", text).is_err() {
            assert_eq!(set.packs().len(), before, "a refused pack changes nothing");
        }
    }
});
