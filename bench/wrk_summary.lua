-- Used by bench/intake.py: print wrk's totals on one line the benchmark reads.
done = function(summary, latency, _requests)
  local errors = summary.errors
  io.write(string.format("SAWTI-WRK requests=%d duration_us=%d connect=%d read=%d write=%d "
    .. "status=%d timeout=%d p50_us=%d p99_us=%d\n", summary.requests, summary.duration,
    errors.connect, errors.read, errors.write, errors.status, errors.timeout,
    latency:percentile(50), latency:percentile(99)))
end
