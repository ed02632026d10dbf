//! The default propagator: the application's global one when it installed one, else strict W3C.

use std::fmt;

use opentelemetry::Context;
use opentelemetry::global;
use opentelemetry::propagation::text_map_propagator::FieldIter;
use opentelemetry::propagation::{
    Extractor, Injector, TextMapCompositePropagator, TextMapPropagator,
};
use opentelemetry_sdk::propagation::{BaggagePropagator, TraceContextPropagator};

/// Resolves the propagator at every call: the one installed with
/// [`opentelemetry::global::set_text_map_propagator`] if the application installed one, else
/// W3C TraceContext + W3C Baggage. Installing (or replacing) the global propagator after the
/// layers and adapters were built therefore takes effect on the next request.
///
/// "Installed" means anything but the OpenTelemetry API's initial no-op propagator, which is
/// recognised by having no fields and the type name `NoopTextMapPropagator`. To turn
/// propagation off, install an empty composite (what
/// `propagator_from_names` returns for `none`) or give the
/// builder `.propagator(..)` a no-op propagator explicitly.
///
/// The strictness is not here but in `BoundedExtractor`, which
/// [`SpanRecorder::extract`](crate::SpanRecorder::extract) wraps around every carrier, so the
/// global propagator gets the same strict view as the fallback.
///
/// [`fields`](TextMapPropagator::fields) reports the W3C fallback's fields (the global one's
/// cannot be borrowed past its lock).
pub struct DefaultPropagator {
    fallback: TextMapCompositePropagator,
}

impl DefaultPropagator {
    /// A new resolver (cheap; the default propagator (the global one, else W3C TraceContext + Baggage) shares one).
    pub fn new() -> Self {
        Self {
            fallback: w3c_propagator(),
        }
    }
}

impl Default for DefaultPropagator {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for DefaultPropagator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DefaultPropagator")
    }
}

/// W3C TraceContext + W3C Baggage (the SDK's propagators; strict once they read through
/// `BoundedExtractor`).
pub fn w3c_propagator() -> TextMapCompositePropagator {
    TextMapCompositePropagator::new(vec![
        Box::new(TraceContextPropagator::new()),
        Box::new(BaggagePropagator::new()),
    ])
}

/// Whether the application installed a global propagator (see [`DefaultPropagator`]).
#[cfg(any(test, feature = "testing"))]
pub fn global_propagator_installed() -> bool {
    global::get_text_map_propagator(installed)
}

fn installed(p: &dyn TextMapPropagator) -> bool {
    p.fields().next().is_some() || !debug_name_is(p, "NoopTextMapPropagator")
}

/// Whether `p`'s `Debug` output starts with the type name `name` (at most 47 bytes), read
/// into a stack buffer: formatting stops once the buffer is full, nothing is allocated.
fn debug_name_is(p: &dyn TextMapPropagator, name: &str) -> bool {
    struct Head {
        buf: [u8; 48],
        len: usize,
        limit: usize,
    }
    impl fmt::Write for Head {
        fn write_str(&mut self, s: &str) -> fmt::Result {
            let n = s.len().min(self.limit - self.len);
            self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
            self.len += n;
            if self.len == self.limit {
                Err(fmt::Error)
            } else {
                Ok(())
            }
        }
    }
    // The name and one more byte are enough to decide.
    let limit = (name.len() + 1).min(48);
    let mut head = Head {
        buf: [0; 48],
        len: 0,
        limit,
    };
    let _ = fmt::write(&mut head, format_args!("{p:?}"));
    let head = &head.buf[..head.len];
    head.starts_with(name.as_bytes())
        && head
            .get(name.len())
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || *c == b'_'))
}

impl TextMapPropagator for DefaultPropagator {
    fn inject_context(&self, cx: &Context, injector: &mut dyn Injector) {
        let done = global::get_text_map_propagator(|p| {
            installed(p) && {
                p.inject_context(cx, injector);
                true
            }
        });
        if !done {
            self.fallback.inject_context(cx, injector);
        }
    }

    fn extract_with_context(&self, cx: &Context, extractor: &dyn Extractor) -> Context {
        global::get_text_map_propagator(|p| {
            installed(p).then(|| p.extract_with_context(cx, extractor))
        })
        .unwrap_or_else(|| self.fallback.extract_with_context(cx, extractor))
    }

    fn fields(&self) -> FieldIter<'_> {
        self.fallback.fields()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opentelemetry::trace::noop::NoopTextMapPropagator;

    #[test]
    fn the_api_noop_is_not_installed_anything_else_is() {
        assert!(!installed(&NoopTextMapPropagator::new()));
        assert!(
            installed(&TextMapCompositePropagator::new(vec![])),
            "an explicit empty composite turns propagation off"
        );
        assert!(installed(&TraceContextPropagator::new()));
        #[derive(Debug)]
        struct NoopTextMapPropagatorLike;
        impl TextMapPropagator for NoopTextMapPropagatorLike {
            fn inject_context(&self, _: &Context, _: &mut dyn Injector) {}
            fn extract_with_context(&self, cx: &Context, _: &dyn Extractor) -> Context {
                cx.clone()
            }
            fn fields(&self) -> FieldIter<'_> {
                FieldIter::new(&[])
            }
        }
        assert!(
            installed(&NoopTextMapPropagatorLike),
            "a longer name is another type"
        );
    }
}
