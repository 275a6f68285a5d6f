"""Parse a lab-serve /metrics page with the real Prometheus parser.

Usage: metrics_check.py ENDPOINT
Prints {family: {"type": ..., "samples": [[name, labels, value], ...]}} as JSON,
after prometheus_client.parser has read every line of the exposition.
"""

import json
import sys
import urllib.request

from prometheus_client.parser import text_string_to_metric_families


def main() -> None:
    with urllib.request.urlopen(sys.argv[1].rstrip("/") + "/metrics", timeout=10) as r:
        content_type = r.headers.get("Content-Type", "")
        text = r.read().decode()
    assert content_type.startswith("text/plain; version=0.0.4"), content_type
    out = {}
    for family in text_string_to_metric_families(text):
        out[family.name] = {
            "type": family.type,
            "samples": [[s.name, s.labels, s.value] for s in family.samples],
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
