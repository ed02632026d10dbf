//! Compiles the protos used by the gRPC integration tests (`tests/proto`), only when the
//! `grpc` feature is on and the test protos are present (they are not shipped in the package).

fn main() {
    println!("cargo:rerun-if-changed=tests/proto");
    #[cfg(feature = "grpc")]
    {
        if std::env::var_os("CARGO_FEATURE_GRPC").is_none() {
            return;
        }
        let proto = std::path::Path::new("tests/proto/echo.proto");
        if !proto.exists() {
            return;
        }
        if let Err(e) = tonic_prost_build::configure()
            .build_server(true)
            .build_client(true)
            .compile_protos(&[proto], &[std::path::Path::new("tests/proto")])
        {
            // The protos only serve the tests: a missing `protoc` must not break users' builds.
            println!("cargo:warning=otel-rpc: test protos not compiled: {e}");
        }
    }
}
