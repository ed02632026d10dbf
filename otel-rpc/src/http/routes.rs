//! [`RouteNames`]: what a server layer records for each `{method} {route}` it has seen: the
//! `http.route` value (shared text) and the span name (made `'static` once, see
//! `prepared::static_name`), so a request to a known route copies neither.
//!
//! Routes are the application's templates (axum's `MatchedPath`, or the layer's route
//! function), never raw paths; the set is still bounded ([`MAX_ROUTE_NAMES`]), and a pair
//! beyond it is built per request as before.

use std::borrow::Cow;

use opentelemetry::Value;

use crate::layer::values::shared_str;
use crate::metric::bounded::BoundedValues;
use crate::untrusted::MAX_NAME_LEN;

/// Most `{method} {route}` pairs one server layer keeps.
pub(crate) const MAX_ROUTE_NAMES: usize = 256;

/// The recorded values of one `{method} {route}`.
#[derive(Debug, Clone)]
pub(crate) struct RouteName {
    /// `http.route`.
    pub(crate) route: Value,
    /// The span name, `{method} {route}`.
    pub(crate) name: Cow<'static, str>,
}

/// The `{method} {route}` pairs of one server layer.
#[derive(Debug)]
pub(crate) struct RouteNames(BoundedValues<RouteName>);

impl Default for RouteNames {
    fn default() -> Self {
        RouteNames(BoundedValues::new(MAX_ROUTE_NAMES))
    }
}

impl RouteNames {
    /// The values of `method` `route`, kept once for a pair of at most `MAX_NAME_LEN` bytes.
    pub(crate) fn get(&self, method: &str, route: &str) -> RouteName {
        let mut buf = [0u8; MAX_NAME_LEN];
        let len = method.len() + 1 + route.len();
        let Some(key) = buf.get_mut(..len) else {
            return RouteName::new(method, route);
        };
        key[..method.len()].copy_from_slice(method.as_bytes());
        key[method.len()] = b' ';
        key[method.len() + 1..].copy_from_slice(route.as_bytes());
        let Ok(key) = std::str::from_utf8(key) else {
            return RouteName::new(method, route);
        };
        if let Some(known) = self.0.get(key) {
            return known;
        }
        self.0
            .admit_as(key, || RouteName::kept(key, route))
            .unwrap_or_else(|| RouteName::new(method, route))
    }
}

impl RouteName {
    /// Built for one request.
    fn new(method: &str, route: &str) -> Self {
        let mut name = String::with_capacity(method.len() + 1 + route.len());
        name.push_str(method);
        name.push(' ');
        name.push_str(route);
        RouteName {
            route: shared_str(route),
            name: Cow::Owned(name),
        }
    }

    /// Kept by the layer: the name `'static` when the process-wide set has room.
    fn kept(name: &str, route: &str) -> Self {
        RouteName {
            route: shared_str(route),
            name: crate::prepared::static_name(Cow::Owned(name.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_pairs_are_shared_and_long_ones_built() {
        let routes = RouteNames::default();
        let first = routes.get("GET", "/route-names-test/{id}");
        assert_eq!(first.name, "GET /route-names-test/{id}");
        assert_eq!(first.route.as_str(), "/route-names-test/{id}");
        let again = routes.get("GET", "/route-names-test/{id}");
        assert!(matches!(again.name, Cow::Borrowed(_)), "made static once");
        assert_eq!(
            routes.get("POST", "/route-names-test/{id}").name,
            "POST /route-names-test/{id}"
        );
        let long = format!("/{}", "r".repeat(MAX_NAME_LEN));
        let built = routes.get("GET", &long);
        assert!(matches!(built.name, Cow::Owned(_)));
        assert_eq!(built.name, format!("GET {long}"));
        for i in 0..MAX_ROUTE_NAMES + 10 {
            let route = format!("/r{i}");
            assert_eq!(routes.get("GET", &route).name, format!("GET {route}"));
        }
    }
}
