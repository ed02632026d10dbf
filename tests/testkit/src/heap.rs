//! A counting global allocator, for tests that bound the heap an instrumentation holds.
//!
//! A test binary installs it with
//!
//! ```ignore
//! #[global_allocator]
//! static HEAP: otel_testkit::heap::CountingAllocator = otel_testkit::heap::CountingAllocator::new();
//! ```
//!
//! and compares [`CountingAllocator::live`] after its workload with the value before it. The
//! count covers every Rust allocation of the process (all threads: tokio workers, in-process
//! servers, the SDK's readers), not C libraries' own heaps, so a test must
//!
//! * warm up first (lazy statics, connection pools, caches, exporter buffers, first series),
//! * quiesce before each reading (await every task, let servers finish their connections,
//!   flush the providers and forget what the in-memory exporters hold),
//! * run one measurement at a time in the binary (one `#[test]`, or a lock around them).
// A global allocator is an unsafe trait (workspace lint policy: opted in here only); every call
// forwards to `System` unchanged.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// `std::alloc::System` plus a count of the bytes currently allocated through it.
#[derive(Debug, Default)]
pub struct CountingAllocator {
    live: AtomicUsize,
}

impl CountingAllocator {
    /// A counter at zero (installed as the global allocator, it sees every allocation).
    pub const fn new() -> Self {
        CountingAllocator {
            live: AtomicUsize::new(0),
        }
    }

    /// Bytes allocated and not yet freed.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::SeqCst)
    }

    /// Live bytes now minus `before` (an earlier [`CountingAllocator::live`]): negative when
    /// the heap shrank.
    pub fn since(&self, before: usize) -> i64 {
        let now = self.live();
        if now >= before {
            i64::try_from(now - before).unwrap_or(i64::MAX)
        } else {
            -i64::try_from(before - now).unwrap_or(i64::MAX)
        }
    }
}

// SAFETY: every call is forwarded to `System` unchanged; the counter only observes sizes.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            self.live.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            self.live.fetch_add(layout.size(), Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { System.dealloc(ptr, layout) };
        self.live.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: same contract as the caller's.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                self.live
                    .fetch_add(new_size - layout.size(), Ordering::Relaxed);
            } else {
                self.live
                    .fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_allocations_and_frees() {
        let a = CountingAllocator::new();
        let layout = Layout::from_size_align(1000, 8).expect("layout");
        // SAFETY: a non-zero-size layout; the pointers are freed with the layouts they have.
        unsafe {
            let p = a.alloc(layout);
            assert!(!p.is_null());
            assert_eq!(a.live(), 1000);
            let p = a.realloc(p, layout, 3000);
            assert!(!p.is_null());
            assert_eq!(a.since(1000), 2000);
            let bigger = Layout::from_size_align(3000, 8).expect("layout");
            let p = a.realloc(p, bigger, 10);
            assert!(!p.is_null());
            assert_eq!(a.since(1000), -990);
            a.dealloc(p, Layout::from_size_align(10, 8).expect("layout"));
            let z = a.alloc_zeroed(layout);
            assert!(!z.is_null() && *z == 0);
            a.dealloc(z, layout);
        }
        assert_eq!(a.live(), 0);
    }
}
