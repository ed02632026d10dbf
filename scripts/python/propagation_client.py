"""HTTP client using the OpenTelemetry Python SDK: starts a CLIENT span, puts baggage into the
context, injects both (W3C traceparent + baggage headers) into one GET request to URL, and
prints one JSON line:

    {"trace_id": 32 hex, "span_id": 16 hex (its client span), "headers": {injected headers},
     "status": HTTP status, "body": response body}

Usage: python3 propagation_client.py URL [--baggage key=value ...]
"""

import argparse
import urllib.request

from opentelemetry import baggage, context, propagate, trace
from opentelemetry.trace import SpanKind

import otel_common

TRACER = otel_common.setup("python-client")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--baggage", action="append", default=[], metavar="KEY=VALUE")
    args = parser.parse_args()

    with_baggage = context.get_current()
    for entry in args.baggage:
        key, _, value = entry.partition("=")
        with_baggage = baggage.set_baggage(key, value, context=with_baggage)
    # made current first: start_as_current_span makes the span current on top of the
    # *current* context, not on top of its `context` argument
    token = context.attach(with_baggage)
    try:
        call(args.url)
    finally:
        context.detach(token)


def call(url):
    with TRACER.start_as_current_span("GET", kind=SpanKind.CLIENT) as span:
        headers = {}
        # the current context: the client span plus the baggage it was started under
        propagate.inject(headers)
        request = urllib.request.Request(url, headers=headers, method="GET")
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
            body = response.read().decode("utf-8", "replace")
        own = span.get_span_context()
        otel_common.emit(
            {
                "trace_id": otel_common.trace_id_hex(own),
                "span_id": otel_common.span_id_hex(own),
                "headers": headers,
                "status": status,
                "body": body,
            }
        )


if __name__ == "__main__":
    main()
