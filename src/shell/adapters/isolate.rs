//! The isolate this code runs in, as diagnostics report it.

use wasm_bindgen::JsCast;

/// The linear memory of this isolate's wasm instance (it only grows, so it is the peak).
pub fn wasm_memory_bytes() -> u64 {
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length() as u64
}
