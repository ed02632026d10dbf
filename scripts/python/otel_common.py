"""Shared set-up of the propagation test scripts: an SDK tracer provider and the W3C
TraceContext + Baggage composite propagator, both explicit (no OTEL_* environment needed)."""

import json
import sys

from opentelemetry import baggage, propagate, trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator


def setup(service_name):
    """Installs the SDK tracer provider (always-on sampler, nothing exported: the scripts
    report ids themselves) and the TraceContext + Baggage propagator; returns a tracer."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    trace.set_tracer_provider(provider)
    propagate.set_global_textmap(
        CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])
    )
    return trace.get_tracer("otel-adapters.propagation-test")


def trace_id_hex(span_context):
    return trace.format_trace_id(span_context.trace_id)


def span_id_hex(span_context):
    return trace.format_span_id(span_context.span_id)


def baggage_of(context):
    """The baggage entries of `context` as a plain dict of strings."""
    return {k: str(v) for k, v in baggage.get_all(context).items()}


def emit(obj):
    """One JSON line on stdout, flushed (the Rust test reads stdout line by line)."""
    sys.stdout.write(json.dumps(obj, sort_keys=True) + "\n")
    sys.stdout.flush()
