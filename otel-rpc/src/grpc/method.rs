//! The RPC method of a gRPC request, from its `:path`, and the set of methods a server is
//! known to serve (so `rpc.method` on the metric never takes a value a client made up).

use std::borrow::Cow;
use std::collections::HashSet;

use opentelemetry::{KeyValue, Value};
use opentelemetry_semantic_conventions::attribute;

use crate::metric::bounded::BoundedValues;
use crate::untrusted::OTHER;

/// Longest method name recorded as is; longer paths count as unknown methods.
const MAX_METHOD_LEN: usize = 256;

/// Most distinct methods a [`GrpcServerLayer`](crate::GrpcServerLayer) learns when it is not
/// told which methods it serves; calls to further methods are recorded as `_OTHER`.
pub const MAX_LEARNED_METHODS: usize = 256;

/// The span name of a call whose method is unknown (the conventions' `{rpc.system.name}`).
const UNKNOWN_METHOD_SPAN_NAME: &str = "grpc";

/// `package.Service/Method` from a `/package.Service/Method` path, or `None` when the path
/// does not have that shape.
pub(crate) fn rpc_method(path: &str) -> Option<&str> {
    let method = path.strip_prefix('/')?;
    let bytes = method.as_bytes();
    if bytes.len() > MAX_METHOD_LEN {
        return None;
    }
    // One pass: every byte allowed, exactly one `/`, with a service before and a name after.
    let mut slash = None;
    for (i, &b) in bytes.iter().enumerate() {
        if !METHOD_BYTES[usize::from(b)] {
            return None;
        }
        if b == b'/' {
            if slash.is_some() {
                return None;
            }
            slash = Some(i);
        }
    }
    let slash = slash?;
    (slash > 0 && slash + 1 < bytes.len()).then_some(method)
}

/// The bytes of a method path: visible ASCII except quotes and backticks.
const METHOD_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x21;
    while b < 0x7f {
        table[b] = !matches!(b as u8, b'"' | b'\'' | b'`');
        b += 1;
    }
    table
};

/// A known method's `rpc.method` value (shared text: span and metric copies only bump a
/// count) and its span name (made `'static` once, see `prepared::static_name`).
#[derive(Debug, Clone)]
pub(crate) struct MethodValue {
    value: Value,
    name: Cow<'static, str>,
}

impl MethodValue {
    fn new(method: &str) -> Self {
        MethodValue {
            value: crate::layer::values::shared_str(method),
            name: crate::prepared::static_name(Cow::Owned(method.to_owned())),
        }
    }
}

/// The methods a client layer has called, each with its [`MethodValue`], up to
/// [`MAX_LEARNED_METHODS`] (later ones are built per call).
#[derive(Debug)]
pub(crate) struct ClientMethods(BoundedValues<MethodValue>);

impl Default for ClientMethods {
    fn default() -> Self {
        ClientMethods(BoundedValues::new(MAX_LEARNED_METHODS))
    }
}

/// The span name and the sampler-visible attributes of a client call to `path` (the
/// application's own stubs choose the method).
pub(crate) fn client_attributes(
    methods: &ClientMethods,
    path: &str,
) -> (Cow<'static, str>, Vec<KeyValue>) {
    let mut attributes = Vec::with_capacity(6);
    attributes.push(KeyValue::new(attribute::RPC_SYSTEM_NAME, "grpc"));
    let known = path.strip_prefix('/').and_then(|m| methods.0.get(m));
    let known = known.or_else(|| {
        let method = rpc_method(path)?;
        Some(
            methods
                .0
                .admit_as(method, || MethodValue::new(method))
                .unwrap_or_else(|| MethodValue::new(method)),
        )
    });
    match known {
        Some(MethodValue { value, name }) => {
            attributes.push(KeyValue::new(attribute::RPC_METHOD, value));
            (name, attributes)
        }
        None => {
            unknown(path, &mut attributes);
            (Cow::Borrowed(UNKNOWN_METHOD_SPAN_NAME), attributes)
        }
    }
}

/// `rpc.method` `_OTHER` and the original (capped) in `rpc.method_original`.
fn unknown(path: &str, attributes: &mut Vec<KeyValue>) {
    attributes.push(KeyValue::new(attribute::RPC_METHOD, OTHER));
    attributes.push(KeyValue::new(
        attribute::RPC_METHOD_ORIGINAL,
        crate::text::truncate(path.trim_start_matches('/'), MAX_METHOD_LEN).into_owned(),
    ));
}

/// Which methods a server serves: a configured list of methods, else of services, plus the
/// methods learned from calls that a handler answered.
#[derive(Debug, Clone)]
pub(crate) struct ServedMethods {
    /// The exact methods (`package.Service/Method`), when configured: nothing else is known.
    exact: Option<BoundedValues<MethodValue>>,
    /// The served services (`package.Service`), when configured: methods of any other
    /// service are unknown.
    services: Option<HashSet<Box<str>>>,
    /// Methods the service itself answered ([`learn`](Self::learn)), up to
    /// [`MAX_LEARNED_METHODS`].
    learned: BoundedValues<MethodValue>,
}

impl Default for ServedMethods {
    fn default() -> Self {
        ServedMethods {
            exact: None,
            services: None,
            learned: BoundedValues::new(MAX_LEARNED_METHODS),
        }
    }
}

/// What a server knows about the method of a call when it starts.
pub(crate) enum Lookup {
    /// Served: its shared `rpc.method` value and span name.
    Known(MethodValue),
    /// Not served (or malformed).
    Unknown,
    /// Possibly served: decided when the call ends.
    Undecided,
}

impl ServedMethods {
    /// Only these methods (`package.Service/Method`) are known.
    pub(crate) fn add_methods<I, M>(&mut self, methods: I)
    where
        I: IntoIterator<Item = M>,
        M: AsRef<str>,
    {
        let exact = self.exact.get_or_insert_with(|| BoundedValues::new(0));
        for method in methods {
            let method = method.as_ref().trim_start_matches('/');
            if rpc_method(&format!("/{method}")).is_some() {
                exact.insert_as(method, MethodValue::new(method));
            }
        }
    }

    /// Only methods of these services (`package.Service`) can be known.
    pub(crate) fn add_services<I, S>(&mut self, services: I)
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let set = self.services.get_or_insert_with(HashSet::new);
        set.extend(services.into_iter().map(|s| Box::from(s.as_ref())));
    }

    fn lookup(&self, method: &str) -> Lookup {
        if let Some(exact) = &self.exact {
            return exact.get(method).map_or(Lookup::Unknown, Lookup::Known);
        }
        if let Some(services) = &self.services {
            let service = method.split_once('/').map_or(method, |(s, _)| s);
            if !services.contains(service) {
                return Lookup::Unknown;
            }
        }
        self.learned
            .get(method)
            .map_or(Lookup::Undecided, Lookup::Known)
    }

    /// The `rpc.method` value of an undecided call that ended with `code`, `answered` when
    /// its response carried at least one message: the method, if the service itself served
    /// it and the learned set has room.
    ///
    /// Served means a message or `OK`. A status alone proves nothing: whatever answers before
    /// routing (an auth or rate-limit interceptor, a load shedder) answers made-up methods
    /// with its own status (`UNAUTHENTICATED`, `RESOURCE_EXHAUSTED`, ...), and tonic's router
    /// answers them `UNIMPLEMENTED`; neither sends a message or `OK`. A served method whose
    /// calls all fail without a message stays `_OTHER` until one succeeds (or configure
    /// `services` / `methods`).
    pub(crate) fn learn(&self, method: &str, code: u32, answered: bool) -> Option<Value> {
        (answered || code == super::OK)
            .then(|| self.learned.admit_as(method, || MethodValue::new(method)))
            .flatten()
            .map(|known| known.value)
    }

    /// The span name and sampler-visible attributes of a server call to `path`, and whether
    /// its method is still to be decided (its `rpc.method` is then set on span and metric
    /// when the call ends).
    pub(crate) fn server_attributes<'p>(
        &self,
        path: &'p str,
    ) -> (Cow<'static, str>, Vec<KeyValue>, Option<&'p str>) {
        let mut attributes = Vec::with_capacity(6);
        attributes.push(KeyValue::new(attribute::RPC_SYSTEM_NAME, "grpc"));
        let method = rpc_method(path);
        let lookup = method.map_or(Lookup::Unknown, |m| self.lookup(m));
        match (lookup, method) {
            (Lookup::Known(MethodValue { value, name }), Some(_)) => {
                attributes.push(KeyValue::new(attribute::RPC_METHOD, value));
                (name, attributes, None)
            }
            // `rpc.method` is set when the call ends (span attributes cannot be replaced).
            (Lookup::Undecided, Some(method)) => {
                (Cow::Owned(method.to_owned()), attributes, Some(method))
            }
            _ => {
                unknown(path, &mut attributes);
                (Cow::Borrowed(UNKNOWN_METHOD_SPAN_NAME), attributes, None)
            }
        }
    }

    /// Marks a span whose method turned out unknown at its end.
    pub(crate) fn mark_unknown(recording: &mut crate::recording::Recording, method: &str) {
        recording.set_metric_attribute(KeyValue::new(attribute::RPC_METHOD, OTHER));
        recording.set_attribute(KeyValue::new(
            attribute::RPC_METHOD_ORIGINAL,
            method.to_owned(),
        ));
        recording.update_name(UNKNOWN_METHOD_SPAN_NAME);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_from_paths() {
        assert_eq!(rpc_method("/echo.Echo/Say"), Some("echo.Echo/Say"));
        assert_eq!(rpc_method("/Echo/Say"), Some("Echo/Say"));
        assert_eq!(rpc_method("/a/b/c"), None);
        assert_eq!(rpc_method("/nothing"), None);
        assert_eq!(rpc_method("//x"), None);
        assert_eq!(rpc_method("/a b/c"), None);
        assert_eq!(rpc_method("/a/"), None);
        assert_eq!(rpc_method("echo.Echo/Say"), None);
        assert_eq!(rpc_method("/a\"b/c"), None);
        assert_eq!(rpc_method("/a/b`"), None);
        assert_eq!(rpc_method("/a/é"), None);
        let long = format!("/s/{}", "m".repeat(MAX_METHOD_LEN - 1));
        assert!(rpc_method(&long).is_none());
        assert!(rpc_method(&long[..long.len() - 1]).is_some());
        let methods = ClientMethods::default();
        let (name, attrs) = client_attributes(&methods, "/bad");
        assert_eq!(name, "grpc");
        assert!(attrs.iter().any(|kv| kv.value.as_str() == "_OTHER"));
        assert!(
            methods.0.get("bad").is_none(),
            "a malformed path is never kept"
        );
        for _ in 0..2 {
            let (name, attrs) = client_attributes(&methods, "/echo.Echo/Say");
            assert_eq!(name, "echo.Echo/Say");
            assert!(
                matches!(name, Cow::Borrowed(_)),
                "a kept method's name is static"
            );
            assert!(attrs.iter().any(|kv| kv.value.as_str() == "echo.Echo/Say"));
        }
    }

    #[test]
    fn served_sets() {
        let mut served = ServedMethods::default();
        served.add_services(["echo.Echo"]);
        let (_, _, undecided) = served.server_attributes("/echo.Echo/Say");
        assert_eq!(undecided, Some("echo.Echo/Say"));
        let (name, _, undecided) = served.server_attributes("/evil.Svc/X");
        assert_eq!((name.as_ref(), undecided), ("grpc", None));
        assert!(served.learn("echo.Echo/Say", 0, false).is_some());
        // UNIMPLEMENTED: tonic's router for a method it does not route.
        assert!(served.learn("echo.Echo/Nope", 12, false).is_none());
        // An interceptor's status without a message teaches nothing; a message does.
        assert!(served.learn("echo.Echo/Made", 16, false).is_none());
        assert!(served.learn("echo.Echo/Fails", 13, true).is_some());
        let (_, _, undecided) = served.server_attributes("/echo.Echo/Say");
        assert_eq!(undecided, None);

        let mut exact = ServedMethods::default();
        exact.add_methods(["/echo.Echo/Say"]);
        assert!(matches!(exact.lookup("echo.Echo/Say"), Lookup::Known(_)));
        assert!(matches!(exact.lookup("echo.Echo/Other"), Lookup::Unknown));
    }
}
