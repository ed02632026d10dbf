"""HTTP server using the OpenTelemetry Python SDK: for every request it extracts the W3C
trace context and baggage from the headers, starts a SERVER span under it, and answers with
JSON describing what it extracted:

    {"trace_id": 32 hex, "parent_span_id": 16 hex, "parent_is_remote": bool, "sampled": bool,
     "span_id": 16 hex (its own server span), "baggage": {key: value}, "traceparent": raw header,
     "method": ..., "path": ...}

Usage: python3 propagation_server.py [--host 127.0.0.1] [--port 0]

Port 0 lets the OS choose a free port. The first stdout line is {"listening": "host:port"}.
The server exits when stdin reaches end of file, so it never outlives the test that spawned it.
"""

import argparse
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind

import otel_common

TRACER = otel_common.setup("python-server")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        # HTTPMessage.get is case-insensitive, as the W3C specs require for header names.
        extracted = propagate.extract(self.headers)
        parent = trace.get_current_span(extracted).get_span_context()
        with TRACER.start_as_current_span(
            f"{self.command} {self.path}", context=extracted, kind=SpanKind.SERVER
        ) as span:
            own = span.get_span_context()
            report = {
                "method": self.command,
                "path": self.path,
                "traceparent": self.headers.get("traceparent"),
                "trace_id": otel_common.trace_id_hex(own),
                "span_id": otel_common.span_id_hex(own),
                "parent_valid": parent.is_valid,
                "parent_span_id": otel_common.span_id_hex(span.parent) if span.parent else None,
                "parent_is_remote": bool(span.parent and span.parent.is_remote),
                "sampled": own.trace_flags.sampled,
                "baggage": otel_common.baggage_of(extracted),
            }
        body = otel_common.json.dumps(report, sort_keys=True).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = _answer
    do_POST = _answer

    def log_message(self, format, *args):  # noqa: A002 (BaseHTTPRequestHandler's signature)
        sys.stderr.write("propagation_server: " + (format % args) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    host, port = server.server_address[:2]
    otel_common.emit({"listening": f"{host}:{port}"})

    def stop_on_stdin_eof():
        sys.stdin.read()
        server.shutdown()

    threading.Thread(target=stop_on_stdin_eof, daemon=True).start()
    server.serve_forever()
    server.server_close()


if __name__ == "__main__":
    main()
