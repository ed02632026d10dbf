//! The RPC method of a gRPC request, from its `:path`.

use std::borrow::Cow;

use opentelemetry::KeyValue;
use opentelemetry_semantic_conventions::attribute;

/// Longest method name recorded as is; longer paths count as unknown methods.
const MAX_METHOD_LEN: usize = 256;

/// `package.Service/Method` from a `/package.Service/Method` path, or `None` when the path
/// does not have that shape.
pub(crate) fn rpc_method(path: &str) -> Option<&str> {
    let method = path.strip_prefix('/')?;
    let (service, name) = method.split_once('/')?;
    let valid = !service.is_empty()
        && !name.is_empty()
        && !name.contains('/')
        && method.len() <= MAX_METHOD_LEN;
    valid.then_some(method)
}

/// The span name and the sampler-visible attributes of a call to `path`.
pub(crate) fn call_attributes(path: &str) -> (Cow<'static, str>, Vec<KeyValue>) {
    let mut attributes = Vec::with_capacity(6);
    attributes.push(KeyValue::new(attribute::RPC_SYSTEM_NAME, "grpc"));
    match rpc_method(path) {
        Some(method) => {
            // Shared with the metric's copy of the attribute.
            attributes.push(KeyValue::new(
                attribute::RPC_METHOD,
                crate::http::shared_str(method),
            ));
            (Cow::Owned(method.to_owned()), attributes)
        }
        None => {
            attributes.push(KeyValue::new(attribute::RPC_METHOD, "_OTHER"));
            attributes.push(KeyValue::new(
                attribute::RPC_METHOD_ORIGINAL,
                crate::text::truncate(path, MAX_METHOD_LEN).into_owned(),
            ));
            (Cow::Borrowed("grpc"), attributes)
        }
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
        let (name, attrs) = call_attributes("/bad");
        assert_eq!(name, "grpc");
        assert!(attrs.iter().any(|kv| kv.value.as_str() == "_OTHER"));
    }
}
